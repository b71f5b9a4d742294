import type { ErrorCode } from '@cipherchat/contracts';

/** An error meant for the client: a status, a stable code and a safe message. */
export class AppError extends Error {
  /**
   * @param status HTTP status
   * @param code stable machine-readable code
   * @param message human-readable, safe to show
   * @param details optional structured details
   * @param options standard `cause`
   */
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** 400: the input does not match the schema. */
export class ValidationError extends AppError {
  /** @param message what is wrong @param details the list of issues */
  constructor(message: string, details?: unknown) {
    super(400, 'validation_error', message, details);
  }
}
/** 401: not authenticated, or credentials invalid. */
export class UnauthorizedError extends AppError {
  /** @param message why @param code a more specific code */
  constructor(message = 'authentication required', code: ErrorCode = 'unauthorized') {
    super(401, code, message);
  }
}
/** 403: authenticated but not allowed. */
export class ForbiddenError extends AppError {
  /** @param message why @param code a more specific code */
  constructor(message = 'not allowed', code: ErrorCode = 'forbidden') {
    super(403, code, message);
  }
}
/** 404: no such thing (or not visible to the caller). */
export class NotFoundError extends AppError {
  /** @param what the kind of thing looked for */
  constructor(what = 'resource') {
    super(404, 'not_found', `${what} not found`);
  }
}
/** 409: conflicts with the current state. */
export class ConflictError extends AppError {
  /** @param message why @param code specific code @param details extra data */
  constructor(message: string, code: ErrorCode = 'conflict', details?: unknown) {
    super(409, code, message, details);
  }
}
/** 429: slow down. */
export class RateLimitedError extends AppError {
  /** @param retryAfterSeconds when to try again @param code specific code */
  constructor(
    readonly retryAfterSeconds: number,
    code: ErrorCode = 'rate_limited',
  ) {
    super(429, code, `too many requests; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
  }
}

/**
 * Normalises anything thrown into an AppError (unknown errors become 500 internal_error,
 * with the original kept as `cause` for the log, never for the client).
 * @param err whatever was thrown
 * @returns an AppError
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { type?: string; status?: number } | undefined;
  // body-parser errors carry a `type`; they are the client's fault.
  if (e?.type === 'entity.parse.failed') return new AppError(400, 'invalid_json', 'body is not valid JSON');
  if (e?.type === 'entity.too.large') return new AppError(413, 'payload_too_large', 'body is too large');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new AppError(415, 'validation_error', 'unsupported body encoding');
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new AppError(e.status, 'validation_error', 'bad request');
  }
  return new AppError(500, 'internal_error', 'internal error', undefined, { cause: err });
}

/**
 * Asserts an invariant; throws a plain Error (a bug, answered as 500) when it does not hold.
 * @param condition what must be true
 * @param message what went wrong
 */
export function strictAssert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
