import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync, createWriteStream, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { QueryResultRow } from 'pg';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { startLocalIssuer, type LocalIssuer } from './auth.js';
import { readProcStats, type ProcStats } from './proc-stats.js';

/** Repository root (bench/src/ -> ../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the real local servers listen; a stack may be pointed at proxies instead. */
export interface InfraPorts {
  postgres: number;
  amqp: number;
  redis: number;
}

/** Options of {@link startStack}. */
export interface StackOptions {
  /** Name suffix of the database, exchange, queue and Redis prefixes. */
  suffix: string;
  /** chat-service processes to start (1 or 2). */
  processes: number;
  /** Ports the services connect to (defaults: the real servers). Proxies go here in the fault suite. */
  ports?: Partial<InfraPorts>;
  /** Extra environment for chat-service (overrides). */
  env?: Record<string, string>;
  /** chat-service log level (default `warn`). */
  logLevel?: string;
  /**
   * Admin URLs of the servers (defaults: `BENCH_POSTGRES_URL`, `BENCH_AMQP_URL`,
   * `BENCH_REDIS_URL` or the local ones). The fault suite points these at its own private servers.
   */
  admin?: { postgres?: string; amqp?: string; redis?: string };
  /** Also start one notification-service process (same database, schema `notify`). */
  notification?: {
    /** Where it sends mail (an SMTP catcher). */
    smtpUrl: string;
    /** Extra environment (digest delay, poll interval...). */
    env?: Record<string, string>;
  };
}

/** One chat-service child process. */
export interface ServiceProcess {
  /** Index (0, 1). */
  index: number;
  /** HTTP/Socket.IO port. */
  port: number;
  /** Base URL. */
  url: string;
  /** The node process (undefined while killed). */
  child: ChildProcess | undefined;
  /** Its pid (for /proc). */
  pid: number;
}

/** A running benchmark stack: its own database, exchange, JWKS and chat-service processes. */
export interface Stack {
  suffix: string;
  dbName: string;
  databaseUrl: string;
  exchange: string;
  queuePrefix: string;
  redisPrefix: string;
  issuer: LocalIssuer;
  services: ServiceProcess[];
  /** Directory with the services' logs. */
  logDir: string;
  /** The notification-service process, when {@link StackOptions.notification} was given. */
  notification: ServiceProcess | undefined;
  /** Its queue prefix. */
  notificationQueuePrefix: string;
  /** Starts an exited notification-service again on the same port and waits until ready. */
  restartNotification(): Promise<void>;
  /** Kills a process with SIGKILL and waits for it to exit. */
  kill(index: number): Promise<void>;
  /** Starts a (killed) process again on the same port and waits until healthy. */
  restart(index: number): Promise<void>;
  /** /proc figures of every live process. */
  procStats(): ProcStats[];
  /** pg_stat_database counters of the stack's database. */
  pgStats(): Promise<PgStats>;
  /** Runs SQL against the stack's database (admin connection). */
  query<T extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Stops everything and drops the database, exchange and queues. */
  close(): Promise<void>;
}

/** Cumulative row counters of one database. */
export interface PgStats {
  at: number;
  inserted: number;
  deleted: number;
  updated: number;
  commits: number;
}

const DEFAULT_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_AMQP_ADMIN_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DEFAULT_REDIS_ADMIN_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Starts a stack: creates `bench_<suffix>`, a JWKS server and `processes` chat-service
 * processes (the first runs the migrations; the second starts after it is healthy).
 * @param opts options
 * @returns the stack
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const ports: InfraPorts = { postgres: 5432, amqp: 5672, redis: 6379, ...opts.ports };
  const ADMIN_URL = opts.admin?.postgres ?? DEFAULT_ADMIN_URL;
  const AMQP_ADMIN_URL = opts.admin?.amqp ?? DEFAULT_AMQP_ADMIN_URL;
  const REDIS_ADMIN_URL = opts.admin?.redis ?? DEFAULT_REDIS_ADMIN_URL;
  const dbName = `bench_${opts.suffix}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const databaseUrl = `postgres://postgres@127.0.0.1:${ports.postgres}/${dbName}`;
  const directDbUrl = new URL(ADMIN_URL);
  directDbUrl.pathname = `/${dbName}`;
  const db = new pg.Pool({ connectionString: directDbUrl.toString(), max: 2 });
  // an idle client is terminated when the database is dropped at the end: not an error
  db.on('error', () => undefined);
  admin.on('error', () => undefined);
  const issuer = await startLocalIssuer();
  const exchange = `bench.${opts.suffix}`;
  const queuePrefix = `bench_${opts.suffix}.chat`;
  const redisPrefix = `bench:${opts.suffix}`;
  const logDir = mkdtempSync(path.join(tmpdir(), `bench-${opts.suffix}-`));
  const env = {
    ...pickEnv(['PATH', 'HOME', 'LANG', 'TZ']),
    NODE_ENV: 'production',
    LOG_LEVEL: opts.logLevel ?? 'warn',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    AMQP_URL: `amqp://guest:guest@127.0.0.1:${ports.amqp}`,
    REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
    REDIS_PREFIX: redisPrefix,
    BUS_EXCHANGE: exchange,
    QUEUE_PREFIX: queuePrefix,
    JWKS_URL: issuer.jwksUrl,
    ATTACHMENTS_DIR: path.join(logDir, 'attachments'),
    ALLOWED_ORIGINS: 'http://127.0.0.1',
    // Synthetic users send far faster than people; the per-user socket limit would measure itself.
    RATE_SOCKET_EVENTS_PER_SEC: '1000000',
    RATE_HTTP_PER_MIN: '1000000',
    MAX_DEVICES: '100',
    MAX_GROUP_MEMBERS: '1000',
    ...opts.env,
    // tuning experiments: BENCH_CHAT_ENV="WRITE_BATCH_CONCURRENCY=8 DB_POOL_SIZE=30"
    ...Object.fromEntries((process.env.BENCH_CHAT_ENV ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  } as Record<string, string>;

  const services: ServiceProcess[] = [];
  const logs: WriteStream[] = [];
  const notificationQueuePrefix = `bench_${opts.suffix}.notify`;
  const notificationEnv = opts.notification
    ? ({
        ...pickEnv(['PATH', 'HOME', 'LANG', 'TZ']),
        NODE_ENV: 'production',
        LOG_LEVEL: opts.logLevel ?? 'warn',
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
        AMQP_URL: env.AMQP_URL,
        BUS_EXCHANGE: exchange,
        QUEUE_PREFIX: notificationQueuePrefix,
        JWKS_URL: issuer.jwksUrl,
        SMTP_URL: opts.notification.smtpUrl,
        SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
        MAIL_FROM: 'CipherChat Bench <no-reply@bench.localhost>',
        PUBLIC_BASE_URL: 'http://127.0.0.1',
        UNSUBSCRIBE_SECRET: randomBytes(32).toString('hex'),
        ...opts.notification.env,
      } as Record<string, string>)
    : undefined;
  let notification: ServiceProcess | undefined;

  const spawnService = (index: number, port: number, kind: 'chat' | 'notification' = 'chat'): ChildProcess => {
    const log = createWriteStream(path.join(logDir, kind === 'chat' ? `chat-${index}.log` : 'notification.log'), { flags: 'a' });
    logs.push(log);
    const entry = kind === 'chat' ? (process.env.BENCH_CHAT_ENTRY ?? path.join(REPO_ROOT, 'chat-service/src/main.ts')) : path.join(REPO_ROOT, 'notification-service/src/main.ts');
    const child = spawn(
      process.execPath,
      // chat-service with the flags its image runs with (see chat-service/Dockerfile), then any extra ones
      [...(kind === 'chat' ? ['--max-semi-space-size=64', ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])] : []), '--conditions=source', '--import', 'tsx', entry],
      { cwd: path.join(REPO_ROOT, kind === 'chat' ? 'chat-service' : 'notification-service'), env: { ...(kind === 'chat' ? env : notificationEnv), PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    return child;
  };

  const start = async (index: number, port: number) => {
    const child = spawnService(index, port);
    const svc: ServiceProcess = services[index] ?? { index, port, url: `http://127.0.0.1:${port}`, child, pid: child.pid ?? 0 };
    svc.child = child;
    svc.pid = child.pid ?? 0;
    services[index] = svc;
    await waitHealthy(svc, path.join(logDir, `chat-${index}.log`));
  };
  const startNotification = async (port: number) => {
    const child = spawnService(0, port, 'notification');
    notification ??= { index: 0, port, url: `http://127.0.0.1:${port}`, child, pid: child.pid ?? 0 };
    notification.child = child;
    notification.pid = child.pid ?? 0;
    stack.notification = notification;
    await waitHealthy(notification, path.join(logDir, 'notification.log'));
  };

  const stack: Stack = {
    suffix: opts.suffix,
    dbName,
    databaseUrl,
    exchange,
    queuePrefix,
    redisPrefix,
    issuer,
    services,
    logDir,
    notification: undefined,
    notificationQueuePrefix,
    async restartNotification() {
      if (!notification) throw new Error('no notification-service in this stack');
      await startNotification(notification.port);
    },
    async kill(index) {
      const svc = services[index];
      if (!svc?.child) return;
      const child = svc.child;
      if (!hasExited(child)) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      }
      svc.child = undefined;
    },
    async restart(index) {
      const svc = services[index];
      if (!svc) throw new Error(`no service ${index}`);
      await start(index, svc.port);
    },
    procStats() {
      return services.filter((s) => s.child).map((s) => readProcStats(s.pid));
    },
    async pgStats() {
      const r = await admin.query<{ i: string; d: string; u: string; c: string }>(
        'SELECT tup_inserted AS i, tup_deleted AS d, tup_updated AS u, xact_commit AS c FROM pg_stat_database WHERE datname = $1',
        [dbName],
      );
      const row = r.rows[0];
      return { at: performance.now(), inserted: Number(row?.i ?? 0), deleted: Number(row?.d ?? 0), updated: Number(row?.u ?? 0), commits: Number(row?.c ?? 0) };
    },
    async query(sql, params) {
      return (await db.query(sql, params)).rows;
    },
    async close() {
      // graceful first (SIGTERM: the service drains and exits; CPU profiles get written), then SIGKILL
      await Promise.all(
        [...services, ...(notification ? [notification] : [])].map(async (svc) => {
          const child = svc.child;
          if (!child || hasExited(child)) return;
          const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
          child.kill('SIGTERM');
          const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 8000).unref());
          if (!(await Promise.race([exited, timer]))) {
            child.kill('SIGKILL');
            await exited;
          }
          svc.child = undefined;
        }),
      );
      for (const l of logs) l.end();
      await issuer.close();
      await db.end().catch(() => undefined);
      await admin.end().catch(() => undefined);
      // a fresh connection: the admin one may have died with a server restart (fault suite)
      const dropper = new pg.Client({ connectionString: ADMIN_URL });
      dropper.on('error', () => undefined);
      await dropper
        .connect()
        .then(() => dropper.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`))
        .catch((err: unknown) => console.error('drop database failed', err));
      await dropper.end().catch(() => undefined);
      await deleteBusObjects(AMQP_ADMIN_URL, exchange, queuePrefix, notificationEnv ? notificationQueuePrefix : undefined).catch((err: unknown) => console.error('bus cleanup failed', err));
      await deleteRedisKeys(REDIS_ADMIN_URL, redisPrefix).catch((err: unknown) => console.error('redis cleanup failed', err));
      if (!process.env.BENCH_KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
    },
  };

  try {
    for (let i = 0; i < opts.processes; i++) {
      // a port can be taken between choosing and listening: retry with another one
      for (let attempt = 1; ; attempt++) {
        try {
          await start(i, await freePort());
          break;
        } catch (err) {
          if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
          delete services[i];
        }
      }
    }
    if (opts.notification) await startNotification(await freePort());
  } catch (err) {
    await stack.close();
    throw err;
  }
  return stack;
}

/**
 * @param child a child process
 * @returns whether it has already exited (its 'exit' event will not come again)
 */
function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Finds a free TCP port on 127.0.0.1 (below the ephemeral range is not guaranteed; the
 * caller retries on EADDRINUSE).
 * @returns a port that was free a moment ago
 */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/**
 * Waits until `/health` and `/ready` answer 200 (bounded: `BENCH_READY_TIMEOUT_MS`, default 120 s:
 * tsx compiling a service on a 2-core machine shared with other test suites can take ~40 s),
 * failing early if the process exits.
 * @param svc the process
 * @param logFile its log, quoted on failure
 */
async function waitHealthy(svc: ServiceProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + Number(process.env.BENCH_READY_TIMEOUT_MS ?? 120_000);
  let exitCode: number | null = null;
  svc.child?.once('exit', (code) => {
    exitCode = code ?? -1;
  });
  while (Date.now() < deadline) {
    if (exitCode !== null) break;
    try {
      const res = await fetch(`${svc.url}/health`, { signal: AbortSignal.timeout(3000) });
      if (res.ok) {
        // /ready also needs the DB and the bus: the stack is only usable when both are up.
        const ready = await fetch(`${svc.url}/ready`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
        if (ready?.ok) return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const { readFileSync } = await import('node:fs');
  const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  throw new Error(`chat-service ${svc.index} on port ${svc.port} did not become ready (exit ${exitCode}):\n${tail}`);
}

function pickEnv(keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * Deletes the stack's exchange and the queues chat-service (and notification-service) declared with its prefix.
 * @param url admin amqp URL
 * @param exchange exchange name
 * @param queuePrefix queue prefix
 * @param notifyPrefix notification-service's queue prefix, if it ran
 */
async function deleteBusObjects(url: string, exchange: string, queuePrefix: string, notifyPrefix: string | undefined): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const bases = [
      ...['user-deleted', 'user-registered', 'events'].map((b) => `${queuePrefix}.${b}`),
      ...(notifyPrefix ? ['users', 'account-mail', 'digest'].map((b) => `${notifyPrefix}.${b}`) : []),
    ];
    for (const base of bases) {
      for (const q of [base, `${base}.retry`, `${base}.dlq`]) {
        // deleteQueue on a missing queue is fine; a channel error closes the channel, so use one per call
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        await ch.deleteQueue(q).catch(() => undefined);
        await ch.close().catch(() => undefined);
      }
    }
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await ch.deleteExchange(exchange).catch(() => undefined);
    await ch.close().catch(() => undefined);
  } finally {
    await conn.close();
  }
}

/**
 * Deletes the stack's Redis keys (presence, last-seen, rate limits) under its prefix.
 * @param url admin Redis URL
 * @param prefix the stack's REDIS_PREFIX
 */
async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
