import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { QueryResultRow } from 'pg';
import {
  REPO_ROOT,
  TokenIssuer,
  createTestDatabase,
  deleteBusObjects,
  deleteRedisKeys,
  freePort,
  runNames,
  spawnService,
  stopChild,
  type ServedJwks,
} from '@cipherchat/service-kit/testing';
import { testEnv as chatTestEnv } from '@cipherchat/chat-service/testing';
import { testEnv as notifyTestEnv } from '@cipherchat/notification-service/testing';
import { readProcStats, type ProcStats } from './proc-stats.js';

export { REPO_ROOT };

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

/** One service child process. */
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
  /** Mints the synthetic users' tokens (4 h by default, so no socket expires mid-run). */
  issuer: TokenIssuer;
  services: ServiceProcess[];
  /** Directory with the services' logs. */
  logDir: string;
  /** The notification-service process, when {@link StackOptions.notification} was given. */
  notification: ServiceProcess | undefined;
  /** Its queue prefix. */
  notificationQueuePrefix: string;
  /** Starts an exited notification-service again on the same port and waits until ready. */
  restartNotification(): Promise<void>;
  /** Kills notification-service with SIGKILL and waits for it to exit. */
  killNotification(): Promise<void>;
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
 * Starts a stack from the shared pieces of `@cipherchat/service-kit/testing` (names, database,
 * token issuer, child processes) and the services' own `testEnv`: `bench_<suffix>`, a JWKS
 * server and `processes` chat-service processes run from source as deployed (the first runs
 * the migrations; the second starts after it is healthy).
 * @param opts options
 * @returns the stack
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const ports: InfraPorts = { postgres: 5432, amqp: 5672, redis: 6379, ...opts.ports };
  const ADMIN_URL = opts.admin?.postgres ?? DEFAULT_ADMIN_URL;
  const AMQP_ADMIN_URL = opts.admin?.amqp ?? DEFAULT_AMQP_ADMIN_URL;
  const REDIS_ADMIN_URL = opts.admin?.redis ?? DEFAULT_REDIS_ADMIN_URL;
  const names = runNames('', { root: 'bench', suffix: opts.suffix });
  const database = await createTestDatabase(names, { adminUrl: ADMIN_URL });
  // the services connect on `ports.postgres` (a proxy in the fault suite), the stack directly
  const databaseUrl = `postgres://postgres@127.0.0.1:${ports.postgres}/${database.name}`;
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  // an idle client is terminated when the database is dropped at the end: not an error
  db.on('error', () => undefined);
  admin.on('error', () => undefined);
  await admin.connect();
  const issuer = await TokenIssuer.create({ defaultTtlSeconds: 4 * 3600 });
  const jwks: ServedJwks = await issuer.serve();
  const logDir = mkdtempSync(path.join(tmpdir(), `bench-${opts.suffix}-`));
  const base = { PATH: process.env.PATH ?? '', ...pickEnv(['HOME', 'LANG', 'TZ']), NODE_ENV: 'production', LOG_LEVEL: opts.logLevel ?? 'warn' };
  const env = chatTestEnv({
    names,
    databaseUrl,
    jwksUrl: jwks.url,
    attachmentsDir: path.join(logDir, 'attachments'),
    amqpUrl: `amqp://guest:guest@127.0.0.1:${ports.amqp}`,
    redisUrl: `redis://127.0.0.1:${ports.redis}`,
    overrides: {
      ...base,
      ALLOWED_ORIGINS: 'http://127.0.0.1',
      // Synthetic users send far faster than people; the per-user socket limit would measure itself.
      RATE_SOCKET_EVENTS_PER_SEC: '1000000',
      RATE_HTTP_PER_MIN: '1000000',
      // the per-sender message budgets stay on the hot path (their Redis round trips are measured), never reached
      RATE_MESSAGES_PER_MIN: '1000000000',
      RATE_MESSAGE_BYTES_PER_MIN: '1000000000000',
      RATE_PREKEY_PER_PAIR: '1000000',
      MAX_DEVICES: '100',
      MAX_GROUP_MEMBERS: '1000',
      ...opts.env,
      // tuning experiments: BENCH_CHAT_ENV="WRITE_BATCH_CONCURRENCY=8 DB_POOL_SIZE=30"
      ...Object.fromEntries((process.env.BENCH_CHAT_ENV ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    },
  });
  const notificationEnv = opts.notification
    ? notifyTestEnv({
        names,
        databaseUrl,
        smtpUrl: opts.notification.smtpUrl,
        jwksUrl: jwks.url,
        amqpUrl: env.AMQP_URL,
        overrides: {
          ...base,
          SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
          MAIL_FROM: 'CipherChat Bench <no-reply@bench.localhost>',
          PUBLIC_BASE_URL: 'http://127.0.0.1',
          ...opts.notification.env,
        },
      })
    : undefined;

  const services: ServiceProcess[] = [];
  let notification: ServiceProcess | undefined;

  const start = async (index: number, port: number) => {
    const logFile = path.join(logDir, `chat-${index}.log`);
    const extraNode = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const entry = process.env.BENCH_CHAT_ENTRY;
    const spawned = spawnService({ service: 'chat-service', env, port, logFile, nodeArgs: extraNode, ...(entry ? { entry } : {}) });
    const svc: ServiceProcess = services[index] ?? { index, port, url: spawned.url, child: spawned.child, pid: 0 };
    svc.child = spawned.child;
    svc.pid = spawned.child.pid ?? 0;
    services[index] = svc;
    await spawned.ready();
  };
  const startNotification = async (port: number) => {
    const spawned = spawnService({ service: 'notification-service', env: notificationEnv ?? {}, port, logFile: path.join(logDir, 'notification.log') });
    notification ??= { index: 0, port, url: spawned.url, child: spawned.child, pid: 0 };
    notification.child = spawned.child;
    notification.pid = spawned.child.pid ?? 0;
    stack.notification = notification;
    await spawned.ready();
  };

  const stack: Stack = {
    suffix: opts.suffix,
    dbName: database.name,
    databaseUrl,
    exchange: names.exchange,
    queuePrefix: env.QUEUE_PREFIX as string,
    redisPrefix: env.REDIS_PREFIX as string,
    issuer,
    services,
    logDir,
    notification: undefined,
    notificationQueuePrefix: names.queuePrefix('notify'),
    async restartNotification() {
      if (!notification) throw new Error('no notification-service in this stack');
      await startNotification(notification.port);
    },
    async killNotification() {
      if (!notification?.child) return;
      await stopChild(notification.child, 0);
      notification.child = undefined;
    },
    async kill(index) {
      const svc = services[index];
      if (!svc?.child) return;
      await stopChild(svc.child, 0);
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
        [database.name],
      );
      const row = r.rows[0];
      return { at: performance.now(), inserted: Number(row?.i ?? 0), deleted: Number(row?.d ?? 0), updated: Number(row?.u ?? 0), commits: Number(row?.c ?? 0) };
    },
    async query(sql, params) {
      return (await db.query(sql, params)).rows;
    },
    async close() {
      await Promise.all(
        [...services, ...(notification ? [notification] : [])].map(async (svc) => {
          if (svc.child) await stopChild(svc.child);
          svc.child = undefined;
        }),
      );
      await jwks.close();
      await db.end().catch(() => undefined);
      await admin.end().catch(() => undefined);
      await database.drop().catch((err: unknown) => console.error('drop database failed', err));
      const queues = [
        ...['user-deleted', 'user-registered', 'events'].map((b) => `${stack.queuePrefix}.${b}`),
        ...(notificationEnv ? ['users', 'account-mail', 'digest'].map((b) => `${stack.notificationQueuePrefix}.${b}`) : []),
      ];
      await deleteBusObjects(AMQP_ADMIN_URL, names.exchange, queues).catch((err: unknown) => console.error('bus cleanup failed', err));
      await deleteRedisKeys(REDIS_ADMIN_URL, names.redisPattern).catch((err: unknown) => console.error('redis cleanup failed', err));
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

function pickEnv(keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
