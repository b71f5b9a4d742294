import { pino, type Logger } from 'pino';

/** HTTP headers that carry credentials (a part of {@link sensitiveKeys}). */
const sensitiveHeaders = ['authorization', 'cookie', 'set-cookie', 'x-device-secret'];

/**
 * The one list of key names whose values never reach a log line, at any depth of a logged
 * object, on errors too (compared case-insensitively): credentials, tokens, OPAQUE messages,
 * key material, ciphertext bodies, links with one-time tokens, and what database errors carry
 * about the query's values (TypeORM's `parameters`, PostgreSQL's `detail`, which quotes the
 * conflicting key: "Key (email)=(...) already exists").
 */
export const sensitiveKeys: readonly string[] = [
  ...sensitiveHeaders,
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'deviceSecret',
  'registrationRequest',
  'registrationResponse',
  'registrationRecord',
  'startLoginRequest',
  'loginResponse',
  'finishLoginRequest',
  'exportKey',
  'serverSetup',
  'privateKey',
  'blob',
  'body',
  'envelopes',
  'verifyUrl',
  'resetUrl',
  'unsubscribeUrl',
  'parameters',
  'detail',
];

/**
 * Paths pino's own redaction covers: the request and response headers, which pino-http's
 * serializers build after {@link censorSecrets} has run (everything else is censored by name).
 */
export const redactPaths = ['req.headers', 'res.headers'].flatMap((at) => sensitiveHeaders.map((h) => `${at}["${h}"]`));

const CENSOR = '[redacted]';
const MAX_DEPTH = 10;
const sensitive = new Set(sensitiveKeys.map((k) => k.toLowerCase()));

/**
 * Replaces the value of every {@link sensitiveKeys} key with `[redacted]`, at any depth of
 * plain objects, arrays and errors (own properties and `cause`). Numbers and booleans stay
 * (`envelopes: 3` is a count, not a secret). Copy-on-write: the caller's objects are never
 * changed, and an object without secrets is returned as it is. Other class instances (the
 * request and response pino-http logs) are left to their serializers. Past 10 levels a value
 * is replaced by `[too deep]`, which also ends cycles.
 * @param value whatever is about to be logged
 * @param depth nesting level of `value`
 * @returns `value`, or a censored copy
 */
export function censorSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[too deep]' as T;
  if (value instanceof Error) return censorError(value, depth) as T;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = censorSecrets(value[i] as unknown, depth + 1);
      if (v !== value[i]) (copy ??= value.slice())[i] = v;
    }
    return (copy ?? value) as T;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(source)) {
    const v = censorValue(key, source[key], depth);
    if (v !== source[key]) (copy ??= { ...source })[key] = v;
  }
  return (copy ?? value) as T;
}

function censorValue(key: string, value: unknown, depth: number): unknown {
  if (sensitive.has(key.toLowerCase())) {
    return value === undefined || value === null || typeof value === 'number' || typeof value === 'boolean' ? value : CENSOR;
  }
  return censorSecrets(value, depth + 1);
}

/** A censored clone that stays an Error of the same class, so pino's `err` serializer keeps type, message and stack. */
function censorError(err: Error, depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Error & Record<string, unknown>;
  const hidden = (v: unknown) => ({ value: v, enumerable: false, writable: true, configurable: true });
  Object.defineProperty(copy, 'message', hidden(err.message));
  Object.defineProperty(copy, 'stack', hidden(err.stack));
  if ('cause' in err) Object.defineProperty(copy, 'cause', hidden(censorSecrets(err.cause, depth + 1)));
  if (err instanceof AggregateError) Object.defineProperty(copy, 'errors', hidden(censorSecrets(err.errors, depth + 1)));
  const source = err as unknown as Record<string, unknown>;
  for (const key of Object.keys(source)) copy[key] = censorValue(key, source[key], depth);
  return copy;
}

/**
 * Creates the service's JSON logger. Every logged object passes through {@link censorSecrets};
 * request/response headers are redacted by path ({@link redactPaths}).
 * @param service service name, added to every line
 * @param level pino level
 * @param destination optional stream (tests capture logs to scan them for secrets)
 * @returns a pino logger with redaction
 */
export function createLogger(
  service: string,
  level = 'info',
  destination?: NodeJS.WritableStream,
): Logger {
  const options = {
    level,
    base: { service },
    redact: { paths: redactPaths, censor: CENSOR },
    formatters: { log: (obj: Record<string, unknown>) => censorSecrets(obj) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

export type { Logger } from 'pino';
