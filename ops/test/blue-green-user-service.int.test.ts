import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requestWithRetry, waitFor } from './support/net.js';
import { REPO_ROOT, startNginx, type NginxHandle } from './support/nginx.js';
import { startEchoService, type EchoService } from './support/upstreams.js';

// The same blue-green switch as blue-green.int.test.ts, with the real user-service (built
// dist/main.js, real PostgreSQL, RabbitMQ and Redis, secrets from scripts/generate-envs.sh) as
// both colours: its own /ready gates the switch and its own graceful shutdown drains the old one.
const suffix = randomBytes(4).toString('hex');
const DB = `ops_bg_user_${suffix}`;
const EXCHANGE = `t.ops.bg.${suffix}`;
const REDIS_PREFIX = `t-ops-bg-${suffix}:`;
const PG_URL = 'postgres://postgres@127.0.0.1:5432';
const USER_MAIN = path.join(REPO_ROOT, 'user-service/dist/main.js');

let base: string;
let stateDir: string;
let envFile: string;
let nginx: NginxHandle;
let chat: EchoService;
let notify: EchoService;
const ports = { blue: 0, green: 0 };

function deploy(extra: string[] = []): Promise<{ code: number | null; stderr: string }> {
  const args = [
    path.join(REPO_ROOT, 'scripts/deploy-blue-green.sh'),
    '--local',
    '--service',
    'user',
    '--state-dir',
    stateDir,
    '--template',
    'nginx/dev.conf.template',
    '--conf',
    nginx.confPath,
    '--run-dir',
    nginx.runDir,
    '--blue-ports',
    String(ports.blue),
    '--green-ports',
    String(ports.green),
    '--start-cmd',
    `exec node --env-file=${envFile} ${USER_MAIN}`,
    '--ready-timeout',
    '60',
    '--drain-seconds',
    '1',
    '--stop-timeout',
    '15',
    '--verify-url',
    `http://127.0.0.1:${nginx.port}/api/user/.well-known/jwks.json`,
    ...extra,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, {
      env: { ...process.env, ...nginx.vars },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function colourPids(): number[] {
  return ['blue', 'green'].flatMap((c) => {
    const f = path.join(stateDir, `user-${c}.pids`);
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number) : [];
  });
}

beforeAll(async () => {
  if (!existsSync(USER_MAIN))
    execFileSync('npx', ['--no-install', 'tsc', '-b', 'user-service'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
  base = mkdtempSync(path.join(tmpdir(), 'cc-bg-user-'));
  chmodSync(base, 0o755);
  stateDir = path.join(base, 'state');
  mkdirSync(path.join(base, 'www'));
  writeFileSync(path.join(base, 'www/index.html'), '<!doctype html>');
  // Real secrets, generated the way operators get them; connection URLs for this machine.
  const secrets = path.join(base, 'app_secrets');
  copyFileSync(path.join(REPO_ROOT, 'docker-secrets/app_secrets.example'), secrets);
  execFileSync(
    'bash',
    [path.join(REPO_ROOT, 'scripts/generate-envs.sh'), secrets, path.join(base, 'env')],
    {
      env: { ...process.env, SECRETS_CHOWN: '0' },
      stdio: 'pipe',
    },
  );
  const generated = readFileSync(path.join(base, 'env/user-service/app.env'), 'utf8')
    .split('\n')
    .filter((l) => /^(JWT_PRIVATE_KEYS|OPAQUE_SERVER_SETUP)=/.test(l));
  envFile = path.join(base, 'user-service.env');
  writeFileSync(
    envFile,
    [
      ...generated,
      `DATABASE_URL=${PG_URL}/${DB}`,
      'AMQP_URL=amqp://guest:guest@127.0.0.1:5672',
      'REDIS_URL=redis://127.0.0.1:6379',
      `REDIS_KEY_PREFIX=${REDIS_PREFIX}`,
      `BUS_EXCHANGE=${EXCHANGE}`,
      'PUBLIC_BASE_URL=http://localhost:8080',
      'COOKIE_SECURE=false',
      'HOST=127.0.0.1',
      'LOG_LEVEL=warn',
      'NODE_ENV=production',
    ].join('\n') + '\n',
  );
  const admin = new pg.Client({ connectionString: `${PG_URL}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  ports.blue = await freePort();
  ports.green = await freePort();
  [chat, notify] = await Promise.all([
    startEchoService('chat-service'),
    startEchoService('notification-service'),
  ]);
  nginx = await startNginx('nginx/dev.conf.template', {
    USER_UPSTREAM: `server 127.0.0.1:${ports.blue};`,
    CHAT_UPSTREAM: `server 127.0.0.1:${chat.port};`,
    NOTIFY_UPSTREAM: `server 127.0.0.1:${notify.port};`,
    WEB_ROOT: path.join(base, 'www'),
  });
}, 180_000);

afterAll(async () => {
  for (const pid of colourPids()) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await nginx?.stop();
  await Promise.all([chat?.close(), notify?.close()]);
  const admin = new pg.Client({ connectionString: `${PG_URL}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();
  const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
  const ch = await conn.createChannel();
  await ch.deleteExchange(EXCHANGE);
  await conn.close();
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${REDIS_PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('blue-green deploy of the real user-service behind the real nginx', () => {
  it('when green replaces blue under steady load, then no request fails and traffic ends on green', async () => {
    const first = await deploy();
    expect(first.code, first.stderr).toBe(0);
    const bluePids = colourPids();

    const stats = { ok: 0, retried: 0, failed: [] as string[] };
    let stop = false;
    const jwks = '/api/user/.well-known/jwks.json';
    // Half the loops reuse keep-alive connections like a browser (see requestWithRetry).
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const loops = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 20_000 && !stop; i += 1) {
        try {
          const r = await requestWithRetry(nginx.port, jwks, {
            timeoutMs: 5000,
            agent: w % 2 === 0 ? keepAlive : undefined,
          });
          if (r.retried) stats.retried += 1;
          if (r.status === 200 && (JSON.parse(r.text) as { keys: unknown[] }).keys.length > 0)
            stats.ok += 1;
          else stats.failed.push(`${r.status} ${r.text.slice(0, 80)}`);
        } catch (e) {
          stats.failed.push(String(e));
        }
      }
    });
    await waitFor(() => stats.ok >= 100, 20_000, 'load before the switch');
    const before = stats.ok;
    const second = await deploy();
    const during = stats.ok - before;
    await waitFor(() => stats.ok >= before + during + 100, 20_000, 'load after the switch');
    stop = true;
    await Promise.all(loops);
    keepAlive.destroy();

    expect(second.code, second.stderr).toBe(0);
    console.info(
      `[blue-green user-service] served ${stats.ok} requests (${during} while the deploy ran), failed ${stats.failed.length}, keep-alive retries ${stats.retried}`,
    );
    expect(stats.failed).toEqual([]);
    await waitFor(
      () =>
        bluePids.every((p) => {
          try {
            process.kill(p, 0);
            return false;
          } catch {
            return true;
          }
        }),
      20_000,
      'blue to exit',
    );
    const log = readFileSync(path.join(nginx.runDir, 'logs/access.log'), 'utf8')
      .trim()
      .split('\n')
      .slice(-50);
    for (const line of log)
      expect((JSON.parse(line) as { upstream: string }).upstream).toBe(`127.0.0.1:${ports.green}`);
  });
});
