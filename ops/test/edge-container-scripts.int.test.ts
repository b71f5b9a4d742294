import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, request, waitFor } from './support/net.js';
import { REPO_ROOT } from './support/nginx.js';
import { startEchoService, type EchoService } from './support/upstreams.js';

// The edge image's entrypoint and edge-switch (used by deploy-blue-green.sh --compose) run here
// outside Docker, against the real nginx, with the dev template.
let base: string;
let runDir: string;
let port: number;
let child: ChildProcess;
let userA: EchoService;
let userB: EchoService;
let chat: EchoService;
let notify: EchoService;

function env(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    TEMPLATE: path.join(REPO_ROOT, 'nginx/dev.conf.template'),
    NGINX_RENDER: path.join(REPO_ROOT, 'scripts/nginx-render.sh'),
    RUN_DIR: runDir,
    WEB_ROOT: path.join(base, 'www'),
    NGINX_PORT: String(port),
    NGINX_LISTEN_ADDR: '127.0.0.1',
    USER_UPSTREAM: `server 127.0.0.1:${userA.port};`,
    CHAT_UPSTREAM: `server 127.0.0.1:${chat.port};`,
    NOTIFY_UPSTREAM: `server 127.0.0.1:${notify.port};`,
  };
}

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'cc-edge-'));
  chmodSync(base, 0o755);
  runDir = path.join(base, 'run');
  mkdirSync(path.join(base, 'www'));
  writeFileSync(path.join(base, 'www/index.html'), '<!doctype html>');
  [userA, userB, chat, notify] = await Promise.all([
    startEchoService('user-a'),
    startEchoService('user-b'),
    startEchoService('chat'),
    startEchoService('notify'),
  ]);
  port = await freePort();
  child = spawn('bash', [path.join(REPO_ROOT, 'nginx/docker-entrypoint.sh')], {
    env: env(),
    stdio: 'ignore',
  });
  await waitFor(
    () =>
      request(port, '/nginx-health', { timeoutMs: 500 }).then(
        (r) => r.status === 200,
        () => false,
      ),
    20_000,
    'edge to start',
  );
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }
  await Promise.all([userA, userB, chat, notify].map((s) => s?.close()));
  if (base) rmSync(base, { recursive: true, force: true });
});

const service = async (p: string) =>
  (JSON.parse((await request(port, p)).text) as { service: string }).service;

describe('edge container scripts (entrypoint + edge-switch) with the real nginx', () => {
  it('when edge-switch moves USER_UPSTREAM, then nginx reloads onto it and the choice is persisted', async () => {
    expect(await service('/api/user/me')).toBe('user-a');
    execFileSync(
      'bash',
      [
        path.join(REPO_ROOT, 'nginx/edge-switch.sh'),
        'USER_UPSTREAM',
        `server 127.0.0.1:${userB.port};`,
      ],
      {
        env: env(),
        stdio: 'pipe',
      },
    );
    await waitFor(
      async () => (await service('/api/user/me')) === 'user-b',
      10_000,
      'switch to user-b',
    );
    expect(await service('/api/chat/x')).toBe('chat');
    expect(readFileSync(path.join(runDir, 'upstreams.env'), 'utf8')).toContain(
      `USER_UPSTREAM=server\\ 127.0.0.1:${userB.port}\\;`,
    );
  });

  it('when edge-switch gets an unknown variable or a value that is not server lines, then it refuses and nothing changes', () => {
    const run = (args: string[]) => {
      try {
        execFileSync('bash', [path.join(REPO_ROOT, 'nginx/edge-switch.sh'), ...args], {
          env: env(),
          stdio: 'pipe',
        });
        return 0;
      } catch (e) {
        return (e as { status: number }).status;
      }
    };
    expect(run(['WEB_ROOT', 'server 127.0.0.1:1;'])).toBe(2);
    expect(run(['USER_UPSTREAM', 'server 127.0.0.1:1; } server { listen 1;'])).toBe(2);
    expect(run(['USER_UPSTREAM', ''])).toBe(2);
  });

  it('when the render script misses a variable, then it exits 2 and writes nothing', () => {
    const out = path.join(base, 'never.conf');
    let status = 0;
    try {
      execFileSync(
        'bash',
        [
          path.join(REPO_ROOT, 'scripts/nginx-render.sh'),
          path.join(REPO_ROOT, 'nginx/dev.conf.template'),
          out,
        ],
        {
          env: { ...env(), CHAT_UPSTREAM: '' },
          stdio: 'pipe',
        },
      );
    } catch (e) {
      status = (e as { status: number }).status;
    }
    expect(status).toBe(2);
    expect(() => readFileSync(out)).toThrow();
  });
});
