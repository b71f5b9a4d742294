import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync, createWriteStream, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_ADMIN_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Starts a stack: creates `bench_<suffix>`, a JWKS server and `processes` chat-service
 * processes (the first runs the migrations; the second starts after it is healthy).
 * @param opts options
 * @returns the stack
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const ports: InfraPorts = { postgres: 5432, amqp: 5672, redis: 6379, ...opts.ports };
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
  } as Record<string, string>;

  const services: ServiceProcess[] = [];
  const logs: WriteStream[] = [];
  const spawnService = (index: number, port: number): ChildProcess => {
    const log = createWriteStream(path.join(logDir, `chat-${index}.log`), { flags: 'a' });
    logs.push(log);
    const child = spawn(
      process.execPath,
      [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--conditions=source', '--import', 'tsx', process.env.BENCH_CHAT_ENTRY ?? path.join(REPO_ROOT, 'chat-service/src/main.ts')],
      { cwd: path.join(REPO_ROOT, 'chat-service'), env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] },
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
        services.map(async (svc, i) => {
          const child = svc.child;
          if (!child || hasExited(child)) return;
          const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
          child.kill('SIGTERM');
          const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 8000).unref());
          if (!(await Promise.race([exited, timer]))) await stack.kill(i).catch(() => undefined);
          svc.child = undefined;
        }),
      );
      for (const l of logs) l.end();
      await issuer.close();
      await db.end().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((err: unknown) => console.error('drop database failed', err));
      await admin.end();
      await deleteBusObjects(exchange, queuePrefix).catch((err: unknown) => console.error('bus cleanup failed', err));
      await deleteRedisKeys(redisPrefix).catch((err: unknown) => console.error('redis cleanup failed', err));
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
async function freePort(): Promise<number> {
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
 * Waits until `/health` answers 200 (bounded: 60 s), failing early if the process exits.
 * @param svc the process
 * @param logFile its log, quoted on failure
 */
async function waitHealthy(svc: ServiceProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exitCode: number | null = null;
  svc.child?.once('exit', (code) => {
    exitCode = code ?? -1;
  });
  while (Date.now() < deadline) {
    if (exitCode !== null) break;
    try {
      const res = await fetch(`${svc.url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) {
        // /ready also needs the DB and the bus: the stack is only usable when both are up.
        const ready = await fetch(`${svc.url}/ready`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
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
 * Deletes the stack's exchange and the queues chat-service declared with its prefix.
 * @param exchange exchange name
 * @param queuePrefix queue prefix
 */
async function deleteBusObjects(exchange: string, queuePrefix: string): Promise<void> {
  const conn = await amqp.connect(AMQP_ADMIN_URL);
  try {
    for (const base of ['user-deleted', 'user-registered', 'events']) {
      for (const q of [`${queuePrefix}.${base}`, `${queuePrefix}.${base}.retry`, `${queuePrefix}.${base}.dlq`]) {
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
 * @param prefix the stack's REDIS_PREFIX
 */
async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
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
