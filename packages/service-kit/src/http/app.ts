import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { NotFoundError, toAppError } from '../errors.js';
import type { Metrics } from '../metrics.js';

/** A named readiness check (`db`, `bus`, `redis`): resolves true when usable. */
export type ReadinessChecks = Record<string, () => Promise<boolean>>;

/** Options of {@link createHttpApp}. */
export interface HttpAppOptions {
  /** Service logger; request logs are children of it. */
  logger: Logger;
  /** Service metrics. */
  metrics: Metrics;
  /** Checks `/ready` runs; 503 when any fails. */
  readiness: ReadinessChecks;
  /** JSON body limit (default 64 kB). */
  jsonLimit?: string;
}

/**
 * Builds the Express app every service starts from: request ids, JSON logs, metrics,
 * a strict JSON parser and `/health`, `/ready`, `/metrics`. Mount routes, then call
 * {@link finishHttpApp}.
 * @param options logger, metrics, readiness checks
 * @returns the app
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const { logger, metrics, readiness } = options;
  const app = express();
  app.disable('x-powered-by');
  // nginx in front sets X-Forwarded-For; trust only loopback and private hops.
  app.set('trust proxy', ['loopback', 'linklocal', 'uniquelocal']);
  app.set('query parser', 'simple');

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w-]{8,64}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          // query strings can carry tokens (verify links, unsubscribe): never log them
          url: req.url.split('?')[0],
        }),
      },
    }),
  );
  app.use(httpMetrics(metrics));
  app.use(express.json({ limit: options.jsonLimit ?? '64kb', strict: true }));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', async (_req, res) => {
    const entries = await Promise.all(
      Object.entries(readiness).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
    );
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, v]) => v);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}

/**
 * Adds the 404 handler and the error middleware; call after mounting every route.
 * @param app the app from {@link createHttpApp}
 * @param logger logger for unexpected errors
 */
export function finishHttpApp(app: Express, logger: Logger): void {
  app.use((_req, _res, next) => next(new NotFoundError('route')));
  app.use(errorMiddleware(logger));
}

/**
 * The one error middleware: AppError -> `{error:{code,message,details}}`; anything else is
 * logged with its stack and answered `500 internal_error` with a generic message.
 * @param logger where unexpected errors go
 * @returns an Express error handler
 */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    if (appError.status >= 500) {
      (req.log ?? logger).error({ err: appError.cause ?? err }, 'unhandled error');
    }
    if (res.headersSent) return;
    if (appError.status === 429) {
      const retry = (appError.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
      if (retry) res.setHeader('Retry-After', String(retry));
    }
    res.status(appError.status).json({
      error: {
        code: appError.code,
        message: appError.message,
        ...(appError.details === undefined ? {} : { details: appError.details }),
      },
    });
  };
}

function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      // route pattern, not the URL: ids in paths would explode label cardinality
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}
