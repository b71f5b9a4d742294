import http from 'node:http';
import { Router, type Express } from 'express';
import type { DataSource } from 'typeorm';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  Bus,
  closeAll,
  closeHttpServer,
  createDataSource,
  createHttpApp,
  createLogger,
  createMetrics,
  createRedis,
  createRevocationList,
  refuseRevokedSessions,
  createTokenVerifier,
  finishHttpApp,
  initDatabase,
  isDatabaseReady,
  isRedisReady,
  requireAuth,
  requireSameOrigin,
  startOutboxRelay,
  withTransaction,
  authUserId,
  type Logger,
  type Metrics,
  type TokenVerifier,
  listenHttp,
} from '@cipherchat/service-kit';
import type { Config } from './config.js';
import type { ChatContext } from './context.js';
import { consumeOrThrow, createRateLimits } from './rate-limits.js';
import type { ChatDeps } from './domain/deps.js';
import {
  createCloudinaryBlobStore,
  createLocalBlobStore,
  type BlobStore,
} from './store/blob.store.js';
import { migrations } from './store/migrations/index.js';
import { MessageWriter, type Queryable } from './store/message.writer.js';
import { Batcher } from './store/batcher.js';
import { ackMessages, ackMessagesBatch, mailboxStore } from './store/mailbox.repository.js';
import { conversationStore } from './store/conversation.repository.js';
import { deviceStore } from './store/device.repository.js';
import { backupStore } from './store/backup.repository.js';
import { accountStore } from './store/user-data.repository.js';
import { attachmentStore } from './store/attachment.repository.js';
import { safetyStore } from './store/safety.repository.js';
import { devicesRouter } from './http/devices.routes.js';
import { backupRouter } from './http/backup.routes.js';
import { conversationsRouter } from './http/conversations.routes.js';
import { attachmentsRouter } from './http/attachments.routes.js';
import { configRouter } from './http/config.routes.js';
import { safetyRouter } from './http/safety.routes.js';
import { refuseDeletedAccounts } from './http/deleted-account.middleware.js';
import { attachRealtime, createSocketServer, type Realtime } from './realtime/gateway.js';
import { Delivery } from './realtime/delivery.js';
import { Presence } from './realtime/presence.js';
import { onRedisRecovered } from './realtime/redis-recovery.js';
import { PublishTracker } from './realtime/publish-tracker.js';
import { consumeUserDeleted } from './events/user-deleted.handler.js';
import { startRetentionJob, type Job } from './jobs/retention.job.js';

/** Wait after the adapter's Redis connection is ready again before the mailbox passes (resubscribe). */
const ADAPTER_RESUBSCRIBE_MS = 500;

export type { Config } from './config.js';
export { configSchema } from './config.js';

/** Optional collaborators (tests inject a local-JWKS verifier and a log capture). */
export interface AppDeps {
  /** Logger (default: JSON to stdout at LOG_LEVEL). */
  logger?: Logger;
  /** Verifies access tokens (default: remote JWKS at JWKS_URL). */
  verifyToken?: TokenVerifier;
  /** Metrics (default: a fresh registry; process metrics off in tests). */
  metrics?: Metrics;
  /** Attachment storage (default: Cloudinary when CLOUDINARY_URL is set, else local disk). */
  blobs?: BlobStore;
}

/** A running (not yet listening) chat-service. */
export interface App {
  server: http.Server;
  /** The Express app behind `server` (tests list its mounted routes). */
  http: Express;
  /** Listens on `port` (0 = a free one) and returns the port. */
  listen(port?: number): Promise<number>;
  /** Graceful, idempotent shutdown. */
  close(): Promise<void>;
  ds: DataSource;
  bus: Bus;
  logger: Logger;
  /** Shared context (tests use it to inspect or drive internals). */
  ctx: ChatContext;
  /** The Socket.IO layer. */
  realtime: Realtime;
  /** Queue name of the `user.deleted.v1` consumer. */
  userDeletedQueue: string;
  /** The retention job (tests run it on demand). */
  retention: Job;
}

/**
 * Builds chat-service: database (migrated), Redis, bus + outbox relay, REST routes under
 * `/api/chat`, Socket.IO at `/socket.io/`, the `user.deleted.v1` consumer and the retention
 * job. Never listens on import.
 * @param config parsed configuration
 * @param deps optional collaborators
 * @returns the app
 */
export async function createApp(config: Config, deps: AppDeps = {}): Promise<App> {
  const logger = deps.logger ?? createLogger('chat-service', config.LOG_LEVEL);
  const metrics = deps.metrics ?? createMetrics('chat-service', config.NODE_ENV !== 'test');
  const ds = createDataSource({
    url: config.DATABASE_URL,
    schema: 'chat',
    entities: [],
    migrations,
    poolSize: config.DB_POOL_SIZE,
    applicationName: 'chat-service',
  });
  await initDatabase(ds, 'chat', logger);

  // Auto-pipelining: the hot path issues a presence lookup and one PUBLISH per envelope;
  // commands issued in the same tick share one write instead of a syscall each.
  const redis = new Redis(config.REDIS_URL, {
    connectionName: 'chat-service',
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
  });
  const pub = new Redis(config.REDIS_URL, {
    connectionName: 'chat-service-adapter-pub',
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
  });
  const sub = createRedis(config.REDIS_URL, 'chat-service-adapter-sub');
  for (const c of [redis, pub, sub])
    c.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));
  // The adapter's publishes: handled on failure, and a send waits for its own (PublishTracker).
  const publishes = new PublishTracker(logger);
  publishes.wrap(pub);

  const bus = new Bus({ url: config.AMQP_URL, exchange: config.BUS_EXCHANGE, logger, metrics });
  await bus.start();
  const relay = startOutboxRelay({ ds, schema: 'chat', bus, logger, metrics });

  const mainPool = (ds.driver as unknown as { master: Queryable }).master;
  // Acks only delete envelopes: if a database crash forgot one, the envelope is delivered
  // again and the client dedupes it. So they skip waiting for the WAL flush.
  const relaxedPool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: Math.max(2, Math.ceil(config.DB_POOL_SIZE / 4)),
    options: '-c synchronous_commit=off',
    application_name: 'chat-service-acks',
    connectionTimeoutMillis: 5_000,
  });
  relaxedPool.on('error', (err) => logger.warn({ err: err.message }, 'idle ack-pool client error'));

  // Socket.IO is created before the routes (emitting needs no HTTP server) and attached below:
  // the notifier port is complete from the start, nothing is rewired later.
  const io = createSocketServer(config, pub, sub);
  const presence = new Presence(redis, config.REDIS_PREFIX);
  const writer = new MessageWriter(mainPool, logger, {
    concurrency: config.WRITE_BATCH_CONCURRENCY,
    maxMessages: 256,
    maxEnvelopes: 4096,
    caps: {
      messages: config.MAILBOX_MAX_MESSAGES,
      bytes: config.MAILBOX_MAX_BYTES,
      requestMessages: config.MAILBOX_REQUEST_MAX_MESSAGES,
      requestBytes: config.MAILBOX_REQUEST_MAX_BYTES,
      requestWindowSeconds: config.MAILBOX_REQUEST_WINDOW_S,
    },
  });
  const useCases: ChatDeps = {
    config,
    log: logger,
    db: ds.manager,
    transact: (work) => withTransaction(ds, work),
    conversations: conversationStore,
    devices: deviceStore,
    mailbox: mailboxStore,
    backups: backupStore,
    accounts: accountStore,
    attachments: attachmentStore,
    safety: safetyStore,
    blobs:
      deps.blobs ??
      (config.CLOUDINARY_URL
        ? createCloudinaryBlobStore(config.CLOUDINARY_URL)
        : createLocalBlobStore(config.ATTACHMENTS_DIR)),
    writer,
    // One ack batch at a time per process: concurrent batches touching the same rows could
    // deadlock. If a batch fails anyway, each ack is retried on its own.
    acks: new Batcher(
      (reqs) =>
        ackMessagesBatch(relaxedPool, reqs).catch(async (err: unknown) => {
          if (reqs.length === 1) throw err;
          logger.warn(
            { err: (err as Error).message, size: reqs.length },
            'ack batch failed; retrying one by one',
          );
          const out = [];
          for (const q of reqs)
            out.push(await ackMessages(relaxedPool, q.userId, q.deviceId, q.messageIds, q.drained));
          return out;
        }),
      1,
      512,
    ),
    presence,
    notifier: new Delivery(io, logger, publishes),
    outbox: relay,
  };
  const ctx: ChatContext = {
    config,
    ds,
    redis,
    logger,
    metrics,
    verifyToken: deps.verifyToken ?? createTokenVerifier(config.JWKS_URL),
    limits: createRateLimits(redis, config),
    revocations: createRevocationList(redis, { prefix: config.REVOCATION_KEY_PREFIX }),
    writer,
    deps: useCases,
  };

  // Backups are the largest JSON bodies: base64 of BACKUP_MAX_BYTES plus slack.
  const jsonLimit = Math.max(256 * 1024, Math.ceil((config.BACKUP_MAX_BYTES * 4) / 3) + 4096);
  const app = createHttpApp({
    logger,
    metrics,
    jsonLimit: `${jsonLimit}b`,
    readiness: {
      db: () => isDatabaseReady(ds),
      bus: async () => bus.isReady(),
      redis: () => isRedisReady(redis),
    },
  });
  const api = Router();
  api.use((_req, res, next) => {
    // keys, backups, conversations: per-user answers that no cache should keep
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  api.use(requireAuth(ctx.verifyToken));
  api.use(refuseDeletedAccounts(useCases));
  api.use(refuseRevokedSessions(ctx.revocations));
  api.use(requireSameOrigin(config.ALLOWED_ORIGINS));
  api.use(async (req, _res, next) => {
    // bundle fetches have their own per-requester and per-target limits
    if (!/^\/users\/[^/]+\/keys$/.test(req.path))
      await consumeOrThrow(ctx.limits.http, authUserId(req));
    next();
  });
  api.use(devicesRouter(useCases, ctx.limits));
  api.use(backupRouter(useCases));
  api.use(conversationsRouter(useCases));
  api.use(attachmentsRouter(useCases));
  api.use(configRouter(useCases));
  api.use(safetyRouter(useCases, ctx.limits));
  app.use('/api/chat', api);
  finishHttpApp(app, logger);

  const server = http.createServer(app);
  const realtime = attachRealtime(server, {
    config,
    logger,
    metrics,
    verifyToken: ctx.verifyToken,
    limits: ctx.limits,
    revocations: ctx.revocations,
    io,
    presence,
    deps: useCases,
  });
  // The adapter's Redis connections came back after a loss: cross-process live emits of the
  // outage are gone (their envelopes wait in the mailbox), so every local socket gets a pass.
  onRedisRecovered([pub, sub], () => {
    realtime
      .resyncLocalSockets(ADAPTER_RESUBSCRIBE_MS)
      .then((sockets) => logger.info({ sockets }, 'redis back: mailbox pass for local sockets'))
      .catch((err: unknown) =>
        logger.warn({ err: (err as Error).message }, 'mailbox pass after redis outage failed'),
      );
  });
  const userDeletedQueue = await consumeUserDeleted(useCases, bus, ds);
  const retention = startRetentionJob(useCases, ds);

  let closing: Promise<void> | undefined;
  return {
    server,
    http: app,
    ds,
    bus,
    logger,
    ctx,
    realtime,
    userDeletedQueue,
    retention,
    listen: (port = config.PORT) => listenHttp(server, port, config.HOST, logger, 'chat-service'),
    close() {
      closing ??= closeAll(logger, [
        () => realtime.close(),
        () => closeHttpServer(server, 5_000),
        () => retention.stop(),
        () => relay.stop(),
        () => bus.close(),
        () => relaxedPool.end(),
        () => ds.destroy(),
        () => redis.quit(),
        () => pub.quit(),
        () => sub.quit(),
      ]);
      return closing;
    },
  };
}
