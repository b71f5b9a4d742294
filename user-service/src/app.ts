import http from 'node:http';
import { Router, type Express } from 'express';
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
  isRedisReady,
  requireSameOrigin,
  startOutboxRelay,
  type Logger,
  type Metrics,
  type OutboxRelay,
  type Redis,
  listenHttp,
} from '@cipherchat/service-kit';
import type { Config } from './config.js';
import { createTokenSigner, type TokenSigner } from './auth/token-signer.js';
import { createOpaqueServer } from './auth/opaque-server.js';
import { createLoginStateStore } from './auth/login-states.js';
import { createRateLimits } from './auth/rate-limits.js';
import { createLinkSeal } from './auth/link-seal.js';
import { entities } from './store/entities.js';
import { migrations } from './store/migrations/index.js';
import { SCHEMA } from './store/schema.js';
import { requireLiveSession } from './http/auth-guard.js';
import { authRouter } from './http/auth.routes.js';
import { meRouter } from './http/me.routes.js';
import { usersRouter } from './http/users.routes.js';
import type { UseCaseDeps } from './use-cases/deps.js';

export { configSchema, type Config } from './config.js';

/** A running (not yet listening) user-service. */
export interface App {
  /** The HTTP server (not listening until {@link App.listen}). */
  server: http.Server;
  /** The Express app behind `server` (tests list its mounted routes). */
  http: Express;
  /**
   * Starts listening.
   * @param port port (default config PORT; 0 picks a free one)
   * @returns the bound port
   */
  listen(port?: number): Promise<number>;
  /** Graceful, idempotent shutdown: HTTP, relay, bus, Redis, database. */
  close(): Promise<void>;
  /** The service's DataSource (tests inspect tables through it). */
  ds: DataSource;
  /** The bus the outbox relay publishes on. */
  bus: Bus;
  /** The service logger. */
  logger: Logger;
  /** Redis client (login states, rate limits). */
  redis: Redis;
  /** Metrics registry. */
  metrics: Metrics;
  /** Public JWKS (what GET /.well-known/jwks.json serves). */
  jwks: TokenSigner['jwks'];
}

/** Optional injected dependencies (tests pass a capturing logger). */
export interface AppDeps {
  /** Logger (default: pino to stdout at LOG_LEVEL). */
  logger?: Logger;
  /** Metrics (default: fresh registry, without process metrics in tests). */
  metrics?: Metrics;
}

/**
 * Builds user-service: migrates the database, connects Redis and the bus (the bus may come up
 * later: registration still works and the outbox catches up), starts the outbox relay and
 * mounts the routes under `/api/user`. Never listens on import.
 * @param config parsed configuration
 * @param deps optional logger / metrics
 * @returns the app
 */
export async function createApp(config: Config, deps: AppDeps = {}): Promise<App> {
  const logger = deps.logger ?? createLogger('user-service', config.LOG_LEVEL);
  const metrics = deps.metrics ?? createMetrics('user-service', config.NODE_ENV !== 'test');

  const ds = createDataSource({
    url: config.DATABASE_URL,
    schema: SCHEMA,
    entities,
    migrations,
    applicationName: 'user-service',
  });
  await initDatabase(ds, SCHEMA, logger);
  const redis = createRedis(config.REDIS_URL, 'user-service');
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));
  const bus = new Bus({ url: config.AMQP_URL, exchange: config.BUS_EXCHANGE, logger, metrics });
  await bus.start();

  const signer = await createTokenSigner(config.JWT_PRIVATE_KEYS, config.ACCESS_TOKEN_TTL_S);
  const seal = createLinkSeal(config.OPAQUE_SERVER_SETUP);
  const relay: OutboxRelay = startOutboxRelay({
    ds,
    schema: SCHEMA,
    bus,
    logger,
    metrics,
    prepare: seal.unsealEnvelope,
  });
  const useCaseDeps: UseCaseDeps = {
    config,
    ds,
    logger,
    signer,
    seal,
    relay,
    opaque: await createOpaqueServer(config.OPAQUE_SERVER_SETUP),
    revocations: createRevocationList(redis, {
      prefix: config.REVOCATION_KEY_PREFIX,
      ttlSeconds: config.ACCESS_TOKEN_TTL_S,
    }),
    loginStates: createLoginStateStore(redis, config.REDIS_KEY_PREFIX, config.LOGIN_STATE_TTL_S),
    limits: createRateLimits(redis, {
      prefix: config.REDIS_KEY_PREFIX,
      ipPoints: config.RATE_LIMIT_IP_POINTS,
      ipWindowSeconds: config.RATE_LIMIT_IP_WINDOW_S,
      maxFailures: config.LOGIN_MAX_FAILURES,
      accountMaxFailures: config.LOGIN_ACCOUNT_MAX_FAILURES,
      failureWindowSeconds: config.LOGIN_FAILURE_WINDOW_S,
      lockoutBaseSeconds: config.LOCKOUT_BASE_S,
      lockoutMaxSeconds: config.LOCKOUT_MAX_S,
      emailRequestsPerHour: config.EMAIL_REQUESTS_PER_HOUR,
      directoryPerMinute: config.RATE_DIRECTORY_PER_MIN,
    }),
  };

  const app = createHttpApp({
    logger,
    metrics,
    readiness: {
      db: () => isDatabaseReady(ds),
      bus: async () => bus.isReady(),
      redis: () => isRedisReady(redis),
    },
  });
  // Verifies with our own public keys only, exactly as other services do with the JWKS.
  const guard = requireLiveSession(createTokenVerifier(signer.jwks), ds);
  const api = Router();
  api.get('/.well-known/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(signer.jwks);
  });
  api.use(requireSameOrigin(config.ALLOWED_ORIGINS));
  api.use('/auth', authRouter(useCaseDeps, guard));
  api.use('/me', meRouter(useCaseDeps, guard, useCaseDeps.limits.perIp));
  api.use('/users', usersRouter(useCaseDeps, guard));
  app.use('/api/user', api);
  finishHttpApp(app, logger);

  const server = http.createServer(app);
  let closing: Promise<void> | undefined;
  return {
    server,
    http: app,
    ds,
    bus,
    logger,
    redis,
    metrics,
    jwks: signer.jwks,
    listen: (port = config.PORT) => listenHttp(server, port, config.HOST, logger, 'user-service'),
    close() {
      closing ??= closeAll(logger, [
        () => closeHttpServer(server),
        () => relay.stop(),
        () => bus.close(),
        () => redis.quit(),
        () => ds.destroy(),
      ]);
      return closing;
    },
  };
}
