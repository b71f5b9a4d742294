import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, request, requestWithRetry, waitFor } from './support/net.js';
import { REPO_ROOT, startNginx, type NginxHandle } from './support/nginx.js';
import { startEchoService, type EchoService } from './support/upstreams.js';

const COLOUR_SERVER = path.join(REPO_ROOT, 'ops/test/fixtures/colour-server.mjs');
const LOAD_WORKERS = 4;
const SOCKETS = 5;

let base: string;
let stateDir: string;
let webRoot: string;
let nginx: NginxHandle;
let user: EchoService;
let notify: EchoService;
const ports: Record<'blue' | 'green', number[]> = { blue: [], green: [] };

interface DeployResult {
  code: number | null;
  stderr: string;
}

/** Runs scripts/deploy-blue-green.sh --local for `service` (a separate process: load goes on meanwhile). */
function deploy(
  service: 'chat' | 'user' | 'notify',
  startCmd: string,
  extra: string[] = [],
): Promise<DeployResult> {
  const args = [
    path.join(REPO_ROOT, 'scripts/deploy-blue-green.sh'),
    '--local',
    '--service',
    service,
    '--state-dir',
    stateDir,
    '--template',
    'nginx/dev.conf.template',
    '--conf',
    nginx.confPath,
    '--run-dir',
    nginx.runDir,
    '--blue-ports',
    ports.blue.join(','),
    '--green-ports',
    ports.green.join(','),
    '--start-cmd',
    startCmd,
    '--ready-timeout',
    '10',
    '--drain-seconds',
    '1',
    '--stop-timeout',
    '5',
    ...extra,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, {
      env: { ...process.env, ...nginx.vars },
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

/** pids of every colour process the deploy script started and still records. */
function recordedPids(): number[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir)
    .filter((f) => f.endsWith('.pids'))
    .flatMap((f) =>
      readFileSync(path.join(stateDir, f), 'utf8').split('\n').filter(Boolean).map(Number),
    );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Steady bounded HTTP load through nginx: half the loops open a new connection per request, half
 * reuse keep-alive connections like a browser (with its retry of a GET whose reused connection
 * was closed by the server before answering; counted in `retried`).
 */
function startLoad(urlPath: string) {
  const stats = { ok: 0, failed: 0, retried: 0, failures: [] as string[], colours: [] as string[] };
  let stop = false;
  const MAX_PER_WORKER = 20_000;
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: LOAD_WORKERS });
  const workers = Array.from({ length: LOAD_WORKERS }, async (_, w) => {
    for (let i = 0; i < MAX_PER_WORKER && !stop; i += 1) {
      try {
        const res = await requestWithRetry(nginx.port, urlPath, {
          timeoutMs: 5000,
          agent: w % 2 === 0 ? keepAlive : undefined,
        });
        if (res.retried) stats.retried += 1;
        if (res.status === 200) {
          stats.ok += 1;
          stats.colours.push((JSON.parse(res.text) as { colour: string }).colour);
        } else {
          stats.failed += 1;
          stats.failures.push(`${res.status} ${res.text.slice(0, 100)}`);
        }
      } catch (e) {
        stats.failed += 1;
        stats.failures.push(String(e));
      }
    }
  });
  return {
    stats,
    async stop() {
      stop = true;
      await Promise.all(workers);
      keepAlive.destroy();
      return stats;
    },
  };
}

/** A client that keeps one WebSocket open through nginx, reconnecting (bounded) when closed. */
function keepSocket(id: number) {
  const state = { id, colours: [] as string[], reconnects: 0, open: false, closed: false };
  let ws: WebSocket | undefined;
  const connect = (attempt: number): void => {
    if (state.closed) return;
    ws = new WebSocket(
      `ws://127.0.0.1:${nginx.port}/socket.io/?EIO=4&transport=websocket&client=${id}`,
    );
    ws.on('message', (d) => {
      state.open = true;
      state.colours.push((JSON.parse(String(d)) as { colour: string }).colour);
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      state.open = false;
      if (state.closed || attempt >= 100) return;
      state.reconnects += 1;
      setTimeout(() => connect(attempt + 1), 100);
    });
  };
  connect(0);
  return {
    state,
    close() {
      state.closed = true;
      ws?.terminate();
    },
  };
}

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'cc-bg-'));
  chmodSync(base, 0o755);
  stateDir = path.join(base, 'state');
  webRoot = path.join(base, 'www');
  mkdirSync(webRoot);
  writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html>');
  for (const colour of ['blue', 'green'] as const)
    ports[colour] = [await freePort(), await freePort()];
  [user, notify] = await Promise.all([
    startEchoService('user-service'),
    startEchoService('notification-service'),
  ]);
  nginx = await startNginx('nginx/dev.conf.template', {
    USER_UPSTREAM: `server 127.0.0.1:${user.port};`,
    CHAT_UPSTREAM: ports.blue.map((p) => `server 127.0.0.1:${p};`).join('\n    '),
    NOTIFY_UPSTREAM: `server 127.0.0.1:${notify.port};`,
    WEB_ROOT: webRoot,
  });
});

afterAll(async () => {
  for (const pid of recordedPids()) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await nginx?.stop();
  await Promise.all([user?.close(), notify?.close()]);
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('blue-green deploy (scripts/deploy-blue-green.sh --local, real nginx)', () => {
  const good = `exec node ${COLOUR_SERVER}`;

  it('when the first colour is deployed, then nginx serves it', async () => {
    const first = await deploy('chat', good);
    expect(first.code, first.stderr).toBe(0);
    const res = await request(nginx.port, '/api/chat/ping');
    expect(JSON.parse(res.text)).toMatchObject({ colour: 'blue' });
  });

  it('when green replaces blue under steady HTTP load and open sockets, then no request fails and every socket reconnects to green', async () => {
    const sockets = Array.from({ length: SOCKETS }, (_, i) => keepSocket(i));
    await waitFor(
      () => sockets.every((s) => s.state.colours.length > 0),
      10_000,
      'sockets to connect',
    );
    const load = startLoad('/api/chat/ping');
    await waitFor(() => load.stats.ok >= 200, 20_000, 'load to run before the switch');
    const bluePids = recordedPids();

    const servedBefore = load.stats.ok;
    const result = await deploy('chat', good);
    const servedDuringSwitch = load.stats.ok;
    await waitFor(
      () =>
        load.stats.colours.slice(-50).every((c) => c === 'green') &&
        load.stats.colours.length > servedDuringSwitch + 100,
      20_000,
      'load after the switch',
    );
    await waitFor(
      () => sockets.every((s) => s.state.open && s.state.colours.at(-1) === 'green'),
      20_000,
      'sockets on green',
    );
    const stats = await load.stop();
    for (const s of sockets) s.close();

    expect(result.code, result.stderr).toBe(0);
    console.info(
      `[blue-green] served ${stats.ok} requests (${servedDuringSwitch - servedBefore} while the deploy ran), failed ${stats.failed}, ` +
        `keep-alive retries ${stats.retried}; ` +
        `reconnects per socket: ${sockets.map((s) => s.state.reconnects).join(',')}`,
    );
    expect(stats.failures).toEqual([]);
    expect(stats.colours).toContain('blue');
    expect(stats.colours).toContain('green');
    for (const s of sockets) {
      expect(s.state.colours[0]).toBe('blue');
      expect(s.state.colours.at(-1)).toBe('green');
      expect(s.state.reconnects).toBeGreaterThanOrEqual(1);
    }
    expect(bluePids.length).toBe(2);
    await waitFor(() => bluePids.every((p) => !alive(p)), 10_000, 'blue processes to exit');
    expect(readFileSync(path.join(stateDir, 'chat.colour'), 'utf8').trim()).toBe('green');
  });

  it('when the new colour never becomes ready, then the deploy rolls back and the old colour keeps serving without a failed request', async () => {
    const greenPids = recordedPids();
    const load = startLoad('/api/chat/ping');
    await waitFor(() => load.stats.ok >= 50, 20_000, 'load before the broken deploy');
    const result = await deploy('chat', `BROKEN=1 exec node ${COLOUR_SERVER}`, [
      '--ready-timeout',
      '3',
    ]);
    const stats = await load.stop();

    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain('ROLLBACK');
    expect(stats.failures).toEqual([]);
    expect(new Set(stats.colours)).toEqual(new Set(['green']));
    expect(readFileSync(path.join(stateDir, 'chat.colour'), 'utf8').trim()).toBe('green');
    // The broken blue processes are gone; green's are untouched.
    expect(recordedPids().sort()).toEqual(greenPids.sort());
    expect(greenPids.every(alive)).toBe(true);
    for (const p of ports.blue)
      await expect(request(p, '/health', { timeoutMs: 1000 })).rejects.toThrow();
    const after = await request(nginx.port, '/api/chat/ping');
    expect(JSON.parse(after.text)).toMatchObject({ colour: 'green' });
  });

  it('when the new colour crashes on start, then the deploy stops waiting at once and rolls back', async () => {
    const started = Date.now();
    const result = await deploy('chat', 'echo "boom" >&2; exit 1', ['--ready-timeout', '30']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain('exited before it was ready');
    expect(Date.now() - started).toBeLessThan(30_000);
    const after = await request(nginx.port, '/api/chat/ping');
    expect(JSON.parse(after.text)).toMatchObject({ colour: 'green' });
  });

  it('when the switch fails after nginx reloaded (the check through nginx fails), then nginx gets its previous config back before the new colour stops: the old colour keeps serving, zero failed requests', async () => {
    const greenPids = recordedPids();
    const confBefore = readFileSync(nginx.confPath, 'utf8');
    const load = startLoad('/api/chat/ping');
    await waitFor(() => load.stats.ok >= 50, 20_000, 'load before the failing deploy');
    const result = await deploy('chat', `FAIL_VERIFY=1 exec node ${COLOUR_SERVER}`, [
      '--verify-url',
      `http://127.0.0.1:${nginx.port}/api/chat/verify`,
    ]);
    const servedDuringDeploy = load.stats.ok;
    await waitFor(() => load.stats.ok > servedDuringDeploy + 50, 20_000, 'load after the rollback');
    const stats = await load.stop();

    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toContain('restoring nginx');
    // nginx is back on green before blue is stopped.
    expect(result.stderr).toMatch(/restoring nginx[^]*serves its previous config[^]*stopping it/);
    expect(stats.failures).toEqual([]);
    expect(stats.colours.slice(-50).every((c) => c === 'green')).toBe(true);
    expect(readFileSync(nginx.confPath, 'utf8')).toBe(confBefore);
    expect(readFileSync(path.join(stateDir, 'chat.colour'), 'utf8').trim()).toBe('green');
    expect(recordedPids().sort()).toEqual(greenPids.sort());
    expect(greenPids.every(alive)).toBe(true);
    for (const p of ports.blue)
      await expect(request(p, '/health', { timeoutMs: 1000 })).rejects.toThrow();
  });

  it('when the first deploy of a service fails its check after the switch, then nginx points at the upstream it had before, not at a stopped colour', async () => {
    const result = await deploy('notify', `FAIL_VERIFY=1 exec node ${COLOUR_SERVER}`, [
      '--verify-url',
      `http://127.0.0.1:${nginx.port}/api/notifications/verify`,
    ]);
    expect(result.code, result.stderr).toBe(5);
    const res = await request(nginx.port, '/api/notifications/ping');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ service: 'notification-service' });
    expect(existsSync(path.join(stateDir, 'notify.colour'))).toBe(false);
    expect(existsSync(path.join(stateDir, 'upstreams/NOTIFY_UPSTREAM'))).toBe(false);
    for (const p of ports.blue)
      await expect(request(p, '/health', { timeoutMs: 1000 })).rejects.toThrow();
  });

  it('when another service is deployed later, then the chat upstream switched earlier is kept', async () => {
    const result = await deploy('user', good);
    expect(result.code, result.stderr).toBe(0);
    expect(
      JSON.parse((await request(nginx.port, '/api/user/ping')).text),
      result.stderr + readFileSync(nginx.confPath, 'utf8'),
    ).toMatchObject({ colour: 'blue' });
    expect(JSON.parse((await request(nginx.port, '/api/chat/ping')).text)).toMatchObject({
      colour: 'green',
    });
  });
});
