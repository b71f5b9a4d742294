import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, request, waitFor } from './support/net.js';
import { REPO_ROOT } from './support/nginx.js';
import { startEchoService, type EchoService } from './support/upstreams.js';

// scripts/deploy-blue-green.sh --compose, run for real except for Docker itself: there is no
// Docker engine on the test machines, so fixtures/fake-docker.sh stands in for the `docker` CLI
// (containers = local colour-server processes; `exec nginx edge-switch` = the real edge-switch
// against the real nginx). What this checks: the compose mode's control flow, naming, readiness
// gate, switch, drain/stop and rollback. What it cannot: Docker networking and images.

let base: string;
let fakeState: string;
let binDir: string;
let nginx: { port: number; runDir: string; vars: Record<string, string>; child: ChildProcess };
let chat: EchoService;
let notify: EchoService;
let initialPid: number;

function deployCompose(
  extraEnv: Record<string, string> = {},
  extraArgs: string[] = [],
): Promise<{ code: number | null; stderr: string }> {
  const args = [
    path.join(REPO_ROOT, 'scripts/deploy-blue-green.sh'),
    '--compose',
    '--service',
    'user',
    '--state-dir',
    path.join(base, 'deploy-state'),
    '--ready-timeout',
    '4',
    '--drain-seconds',
    '1',
    '--stop-timeout',
    '5',
    ...extraArgs,
    '--',
    '-f',
    'docker-compose.yml',
    '-f',
    'docker-compose.prod.yml',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, {
      env: {
        ...process.env,
        ...nginx.vars,
        PATH: `${binDir}:${process.env.PATH}`,
        FAKE_DOCKER_STATE: fakeState,
        FAKE_DOCKER_REPO: REPO_ROOT,
        TEMPLATE: path.join(REPO_ROOT, 'nginx/dev.conf.template'),
        NGINX_RENDER: path.join(REPO_ROOT, 'scripts/nginx-render.sh'),
        ...extraEnv,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function containers(): string[] {
  return readdirSync(fakeState)
    .filter((f) => f.endsWith('.pid') && !f.startsWith('service-'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** Bounded HTTP load through nginx; returns who answered and what failed. */
async function underLoad<T>(
  during: () => Promise<T>,
): Promise<{ result: T; ok: number; failed: string[]; colours: string[] }> {
  let stop = false;
  const out = { ok: 0, failed: [] as string[], colours: [] as string[] };
  const loops = Array.from({ length: 3 }, async () => {
    for (let i = 0; i < 20_000 && !stop; i += 1) {
      try {
        const r = await request(nginx.port, '/api/user/ping', { timeoutMs: 5000 });
        if (r.status === 200) {
          out.ok += 1;
          out.colours.push((JSON.parse(r.text) as { colour: string }).colour);
        } else out.failed.push(`${r.status}`);
      } catch (e) {
        out.failed.push(String(e));
      }
    }
  });
  await waitFor(() => out.ok >= 50, 20_000, 'load');
  const result = await during();
  const after = out.ok;
  await waitFor(() => out.ok >= after + 50, 20_000, 'load after').catch((e: Error) => {
    stop = true;
    throw new Error(
      `${e.message}; failures: ${out.failed.slice(0, 3).join(' | ')}; deploy: ${JSON.stringify(result).slice(0, 1500)}`,
    );
  });
  stop = true;
  await Promise.all(loops);
  return { result, ...out };
}

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'cc-compose-deploy-'));
  chmodSync(base, 0o755);
  fakeState = path.join(base, 'fake-docker');
  binDir = path.join(base, 'bin');
  mkdirSync(fakeState);
  mkdirSync(binDir);
  mkdirSync(path.join(base, 'www'));
  writeFileSync(path.join(base, 'www/index.html'), '<!doctype html>');
  symlinkSync(
    path.join(REPO_ROOT, 'ops/test/fixtures/fake-docker.sh'),
    path.join(binDir, 'docker'),
  );
  // The compose-managed user-service before any blue-green deploy.
  const port = await freePort();
  const initial = spawn(
    'setsid',
    ['node', path.join(REPO_ROOT, 'ops/test/fixtures/colour-server.mjs')],
    {
      env: { ...process.env, PORT: String(port), COLOUR: 'compose-service' },
      stdio: 'ignore',
      detached: false,
    },
  );
  initialPid = initial.pid!;
  writeFileSync(path.join(fakeState, 'service-user-service.pid'), String(initialPid));
  await waitFor(
    () =>
      request(port, '/ready', { timeoutMs: 500 }).then(
        (r) => r.status === 200,
        () => false,
      ),
    10_000,
    'initial service',
  );
  [chat, notify] = await Promise.all([
    startEchoService('chat-service'),
    startEchoService('notification-service'),
  ]);
  // nginx as the edge container runs it: the image's entrypoint renders $RUN_DIR/nginx.conf,
  // which is what edge-switch re-renders and reloads.
  const runDir = path.join(base, 'run');
  const edgeEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TEMPLATE: path.join(REPO_ROOT, 'nginx/dev.conf.template'),
    NGINX_RENDER: path.join(REPO_ROOT, 'scripts/nginx-render.sh'),
    RUN_DIR: runDir,
    NGINX_PORT: String(await freePort()),
    NGINX_LISTEN_ADDR: '127.0.0.1',
    USER_UPSTREAM: `server 127.0.0.1:${port};`,
    CHAT_UPSTREAM: `server 127.0.0.1:${chat.port};`,
    NOTIFY_UPSTREAM: `server 127.0.0.1:${notify.port};`,
    WEB_ROOT: path.join(base, 'www'),
  };
  const child = spawn('bash', [path.join(REPO_ROOT, 'nginx/docker-entrypoint.sh')], {
    env: edgeEnv,
    stdio: 'ignore',
  });
  nginx = { port: Number(edgeEnv.NGINX_PORT), runDir, vars: edgeEnv, child };
  await waitFor(
    () =>
      request(nginx.port, '/nginx-health', { timeoutMs: 500 }).then(
        (r) => r.status === 200,
        () => false,
      ),
    20_000,
    'edge to start',
  );
});

afterAll(async () => {
  const pids = existsSync(fakeState)
    ? readdirSync(fakeState)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => Number(readFileSync(path.join(fakeState, f), 'utf8')))
    : [];
  for (const pid of [...pids, initialPid]) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (nginx && nginx.child.exitCode === null) {
    const exited = new Promise((r) => nginx.child.once('exit', r));
    nginx.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }
  await Promise.all([chat?.close(), notify?.close()]);
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('deploy-blue-green.sh --compose (Docker CLI emulated, real nginx and edge-switch)', () => {
  it('when the first colour replaces the compose service and then green replaces blue, then no request fails', async () => {
    const first = await underLoad(() => deployCompose());
    expect(first.result.code, first.result.stderr).toBe(0);
    expect(first.failed).toEqual([]);
    expect(first.colours.at(-1)).toBe('cipherchat-user-service-blue-1');
    await waitFor(() => !alive(initialPid), 10_000, 'the compose service to stop');
    expect(readFileSync(path.join(nginx.runDir, 'upstreams.env'), 'utf8')).toMatch(
      /^USER_UPSTREAM=server\\ 127\.0\.0\.1:\d+\\;$/m,
    );

    const second = await underLoad(() => deployCompose());
    expect(second.result.code, second.result.stderr).toBe(0);
    expect(second.failed).toEqual([]);
    expect(second.colours.at(-1)).toBe('cipherchat-user-service-green-1');
    expect(containers()).toEqual(['cipherchat-user-service-green-1']);
    console.info(
      `[blue-green compose mode] served ${first.ok + second.ok} requests over two switches, failed 0`,
    );
  });

  it('when the new colour never becomes ready, then it is removed and the old one keeps serving', async () => {
    const broken = await underLoad(() => deployCompose({ FAKE_BROKEN: '1' }));
    expect(broken.result.code, broken.result.stderr).toBe(3);
    expect(broken.result.stderr).toContain('ROLLBACK');
    expect(broken.failed).toEqual([]);
    expect(new Set(broken.colours)).toEqual(new Set(['cipherchat-user-service-green-1']));
    expect(containers()).toEqual(['cipherchat-user-service-green-1']);
    expect(readFileSync(path.join(base, 'deploy-state/user.colour'), 'utf8').trim()).toBe('green');
  });

  it('when the check through nginx fails after the switch, then edge-switch restores the previous config before the new colour is removed, with no failed request', async () => {
    const upstreamsBefore = readFileSync(path.join(nginx.runDir, 'upstreams.env'), 'utf8');
    const confBefore = readFileSync(path.join(nginx.runDir, 'nginx.conf'), 'utf8');
    const failing = await underLoad(() =>
      deployCompose({ FAKE_FAIL_VERIFY: '1' }, [
        '--verify-url',
        `http://127.0.0.1:${nginx.port}/api/user/verify`,
      ]),
    );
    expect(failing.result.code, failing.result.stderr).toBe(5);
    expect(failing.result.stderr).toContain('previous config restored');
    expect(failing.failed).toEqual([]);
    expect(failing.colours.at(-1)).toBe('cipherchat-user-service-green-1');
    expect(containers()).toEqual(['cipherchat-user-service-green-1']);
    expect(readFileSync(path.join(nginx.runDir, 'upstreams.env'), 'utf8')).toBe(upstreamsBefore);
    expect(readFileSync(path.join(nginx.runDir, 'nginx.conf'), 'utf8')).toBe(confBefore);
    expect(readFileSync(path.join(base, 'deploy-state/user.colour'), 'utf8').trim()).toBe('green');
  });
});
