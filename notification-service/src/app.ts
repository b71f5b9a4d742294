import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import { Counter } from 'prom-client';
import type { DataSource } from 'typeorm';
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
  createTokenVerifier,
  finishHttpApp,
  initDatabase,
  isDatabaseReady,
  type Logger,
  type Metrics,
  type TokenVerifier,
  listenHttp,
  type RevocationList,
} from '@cipherchat/service-kit';
import type { Config } from './config.js';
import { queueNames, registerConsumers, SCHEMA, type QueueNames } from './events/consumers.js';
import { startDigestScheduler, type DigestScheduler } from './events/digest.scheduler.js';
import type { Notifier } from './events/notifier.js';
import { preferencesRouter } from './http/preferences.routes.js';
import { unsubscribeRouter } from './http/unsubscribe.routes.js';
import { logoUrl } from './mail/logo.js';
import { createSmtpMailer, type Mailer } from './mail/mailer.js';
import { entities } from './store/entities.js';
import { InitNotify1763790000000 } from './store/migrations/1763790000000-init-notify.js';

export type { Config } from './config.js';
export { configSchema } from './config.js';
export type { DigestResult, DigestScheduler } from './events/digest.scheduler.js';
export type { QueueNames } from './events/consumers.js';

/** Optional collaborators (tests inject a logger capture, a local-key verifier...). */
export interface AppDeps {
  logger?: Logger;
  metrics?: Metrics;
  /** Access-token verifier; default: JWKS_URL. */
  verifyToken?: TokenVerifier;
  /** Outgoing mail; default: SMTP_URL through nodemailer. */
  mailer?: Mailer;
}

/** A built (not yet listening) notification-service. */
export interface App {
  server: Server;
  /** The Express app behind `server` (tests list its mounted routes). */
  http: Express;
  /**
   * Starts listening.
   * @param port port (0 = any free one); default PORT
   * @returns the port bound
   */
  listen(port?: number): Promise<number>;
  /** Graceful and idempotent: HTTP, scheduler, consumers (in-flight handlers finish), mail, database. */
  close(): Promise<void>;
  ds: DataSource;
  bus: Bus;
  logger: Logger;
  /** The digest scheduler (tests call `runDue(future)` instead of waiting). */
  digests: DigestScheduler;
  /** Queue names in use. */
  queues: QueueNames;
  /** The session revocation list (tests put sessions on it). */
  revocations: RevocationList;
}

/**
 * Builds notification-service: migrates its schema, connects to the bus and registers the
 * consumers, starts the digest scheduler and builds the HTTP app. Never listens on import.
 * @param config parsed configuration
 * @param deps optional collaborators
 * @returns the app
 */
export async function createApp(config: Config, deps: AppDeps = {}): Promise<App> {
  const logger = deps.logger ?? createLogger('notification-service', config.LOG_LEVEL);
  const metrics = deps.metrics ?? createMetrics('notification-service', config.NODE_ENV !== 'test');
  const ds = createDataSource({
    url: config.DATABASE_URL,
    schema: SCHEMA,
    entities,
    migrations: [InitNotify1763790000000],
    applicationName: 'notification-service',
    // each handler holds a connection for its whole SMTP conversation (3 queues x prefetch),
    // plus the digest scheduler and HTTP
    poolSize: 20,
  });
  await initDatabase(ds, SCHEMA, logger);

  const mailer = deps.mailer ?? createSmtpMailer({
    url: config.SMTP_URL,
    from: config.MAIL_FROM,
    timeoutMs: config.SMTP_TIMEOUT_MS,
    rejectUnauthorized: config.SMTP_TLS_REJECT_UNAUTHORIZED,
  });
  const notifier: Notifier = {
    config,
    mailer,
    logger,
    logoUrl: logoUrl({ cloudinaryUrl: config.CLOUDINARY_URL, logoId: config.CLOUDINARY_LOGO_ID, publicBaseUrl: config.PUBLIC_BASE_URL }),
    mailCounter: new Counter({
      name: 'notify_mails_total',
      help: 'Mails by kind and outcome (sent, a reason for not sending, smtp_error)',
      labelNames: ['kind', 'outcome'],
      registers: [metrics.registry],
    }),
  };

  const bus = new Bus({
    url: config.AMQP_URL,
    exchange: config.BUS_EXCHANGE,
    logger,
    metrics,
    retry: { maxAttempts: config.RETRY_MAX_ATTEMPTS, baseDelayMs: config.RETRY_BASE_MS, maxDelayMs: config.RETRY_MAX_MS },
    // concurrent handlers per queue; bounded so a slow SMTP server cannot exhaust the DB pool
    prefetch: config.CONSUMER_PREFETCH,
  });
  const queues = queueNames(config.QUEUE_PREFIX);
  const consumers = await registerConsumers({ ds, bus, notifier, queues });
  // Wait for the first connection so consumers are bound when createApp returns; if the
  // broker is down the service still starts (/ready says so) and the bus keeps reconnecting.
  await bus.start(true).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'bus not reachable yet; consumers start when it is'));

  const digests = startDigestScheduler({ ds, notifier });

  const verifyToken = deps.verifyToken ?? createTokenVerifier(config.JWKS_URL);
  // Only the revocation list lives here. While Redis is unreachable the authenticated routes
  // answer 503 (fail closed, as chat-service does); mail, digests and unsubscribe links don't
  // need it, so it is not a readiness check (that would take the links down with it).
  const redis = createRedis(config.REDIS_URL, 'notification-service');
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));
  const revocations = createRevocationList(redis, { prefix: config.REVOCATION_KEY_PREFIX });
  const http = createHttpApp({
    logger,
    metrics,
    readiness: { db: () => isDatabaseReady(ds), bus: async () => bus.isReady() },
  });
  http.use(
    '/api/notifications',
    preferencesRouter({
      ds,
      verifyToken,
      revocations,
      allowedOrigins: config.ALLOWED_ORIGINS ?? [new URL(config.PUBLIC_BASE_URL).origin],
      defaultDelayMinutes: config.DIGEST_DELAY_MINUTES,
    }),
    unsubscribeRouter({ ds, secret: config.UNSUBSCRIBE_SECRET, logger }),
  );
  finishHttpApp(http, logger);
  const server = createServer(http);

  let closing: Promise<void> | undefined;
  return {
    server,
    http,
    ds,
    bus,
    logger,
    digests,
    queues,
    revocations,
    listen: (port = config.PORT) => listenHttp(server, port, config.HOST, logger, 'notification-service'),
    close() {
      closing ??= closeAll(logger, [
        () => closeHttpServer(server),
        () => digests.stop(),
        // no new deliveries; handlers in flight finish (their acks are lost with the channel,
        // so the broker redelivers and the inbox answers "duplicate": nothing is mailed twice)
        () => bus.close(),
        () => consumers.drain(),
        () => mailer.close(),
        async () => {
          await redis.quit().catch(() => redis.disconnect());
        },
        () => ds.destroy(),
      ]);
      return closing;
    },
  };
}
