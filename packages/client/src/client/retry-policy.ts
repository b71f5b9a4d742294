import { UntrustedIdentityError } from '../protocol/errors.js';
import { ApiError } from '../transport/api-error.js';

/** Backoff and budget of the outgoing queue. */
export interface RetryPolicy {
  /** Delay before the first retry, ms. */
  baseDelayMs: number;
  /** Longest delay between two attempts, ms. */
  maxDelayMs: number;
  /** Attempts in all (the first one included) before a transient failure becomes final. */
  maxAttempts: number;
}

/** Defaults: 1 s, 2 s, 4 s... capped at one minute; ten attempts (about five minutes). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 10 };

/**
 * Delay before the next attempt: exponential from `baseDelayMs`, capped at `maxDelayMs`, with
 * "equal jitter" (between half and all of it) so many clients coming back from one outage do
 * not retry in step.
 * @param failedAttempts attempts that failed so far (1 after the first failure)
 * @param policy the policy
 * @param random a number in [0, 1) (injected for tests)
 * @returns milliseconds to wait
 */
export function backoffDelay(failedAttempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1);
  const capped = Math.min(policy.maxDelayMs, exp);
  return Math.round(capped / 2 + (capped / 2) * random());
}

/** Error codes that a later attempt can cure (connectivity, overload, expiring sessions). */
const TRANSIENT_CODES = new Set([
  'not_connected',
  'network_error',
  'timeout',
  'internal_error',
  'service_unavailable',
  'unavailable',
  'rate_limited',
  'too_many_requests',
  'token_expired',
  'unauthorized',
  'stale_devices',
  'bad_response',
  'http_error',
  // Waiting for the group's state from a member (it is on its way in the mailbox).
  'group_state_pending',
  // A legitimate add reaches the server a moment before its control message reaches me; the
  // outgoing queue gives it UNEXPECTED_MEMBER_ATTEMPTS attempts, then fails closed.
  'unexpected_member',
]);

/**
 * Limits no retry of the same send can pass: a recipient's mailbox at its cap (`mailbox_full`:
 * the message fails, the user may send again later), my attachment storage quota
 * (`quota_exceeded`: until older attachments expire). `rate_limited` stays transient.
 */
const PERMANENT_LIMIT_CODES = new Set(['mailbox_full', 'quota_exceeded']);

/** Attempts a queued message gets while the server lists someone outside my view (1 s, 2 s, 4 s). */
export const UNEXPECTED_MEMBER_ATTEMPTS = 4;

/**
 * Codes that say the server was not reached or did not answer (network down, socket half-open,
 * nginx without its upstream): no refusal, so the message waits for the network however long.
 */
const UNREACHABLE_CODES = new Set(['not_connected', 'network_error', 'timeout', 'unavailable', 'service_unavailable']);

/**
 * Sorts a failed send: transient errors are retried with backoff, permanent ones fail the
 * message at once; `unreachable` ones (no answer from the server) are retried without a budget.
 * @param err what the attempt threw
 * @returns the reason code, whether to retry, and whether the server was unreachable
 */
export function classifySendError(err: unknown): { code: string; transient: boolean; unreachable: boolean } {
  if (err instanceof UntrustedIdentityError) return { code: 'untrusted_identity', transient: false, unreachable: false };
  // The plaintext schema refused the message (text too long...): no attempt can fix that.
  if (err instanceof Error && err.name === 'ZodError') return { code: 'validation_error', transient: false, unreachable: false };
  if (err instanceof ApiError) {
    const unreachable = UNREACHABLE_CODES.has(err.code) || [502, 503, 504].includes(err.status);
    if (PERMANENT_LIMIT_CODES.has(err.code)) return { code: err.code, transient: false, unreachable: false };
    if (TRANSIENT_CODES.has(err.code)) return { code: err.code, transient: true, unreachable };
    if (err.status >= 500 || err.status === 408 || err.status === 429) return { code: err.code, transient: true, unreachable };
    return { code: err.code, transient: false, unreachable: false };
  }
  const code = typeof (err as { code?: unknown } | null)?.code === 'string' ? (err as { code: string }).code : 'send_failed';
  return { code, transient: false, unreachable: false };
}
