import { describe, expect, it } from 'vitest';
import { UntrustedIdentityError } from '../protocol/errors.js';
import { ApiError } from '../transport/api-error.js';
import { SocketAckError } from '../transport/socket-client.js';
import { backoffDelay, classifySendError, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';

const policy: RetryPolicy = { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 5 };

describe('backoffDelay', () => {
  it('when attempts fail in a row, then the delay doubles from the base up to the cap', () => {
    const top = (n: number) => backoffDelay(n, policy, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map(top)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('when jitter is applied, then the delay stays between half and all of the step', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(200);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(300);
    for (let i = 0; i < 50; i += 1) {
      const d = backoffDelay(4, policy);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });

  it('when nothing is configured, then the defaults start at one second and cap at a minute', () => {
    expect(backoffDelay(1, DEFAULT_RETRY_POLICY, () => 0.999999)).toBe(1000);
    expect(backoffDelay(20, DEFAULT_RETRY_POLICY, () => 0.999999)).toBe(60_000);
  });
});

describe('classifySendError', () => {
  it('when the failure is connectivity, overload or a timeout, then it is retried', () => {
    expect(classifySendError(new ApiError(0, 'not_connected', 'x'))).toEqual({ code: 'not_connected', transient: true, unreachable: true });
    expect(classifySendError(new ApiError(0, 'network_error', 'x'))).toEqual({ code: 'network_error', transient: true, unreachable: true });
    expect(classifySendError(new SocketAckError('timeout', 'x'))).toEqual({ code: 'timeout', transient: true, unreachable: true });
    expect(classifySendError(new ApiError(503, 'whatever', 'x'))).toEqual({ code: 'whatever', transient: true, unreachable: true });
    expect(classifySendError(new ApiError(429, 'slow_down', 'x')).transient).toBe(true);
    // Answers that are not "unreachable" keep the attempt budget.
    expect(classifySendError(new ApiError(500, 'internal_error', 'x'))).toEqual({ code: 'internal_error', transient: true, unreachable: false });
    expect(classifySendError(new ApiError(429, 'rate_limited', 'x')).unreachable).toBe(false);
  });

  it('when the server refuses the message itself, then it fails at once with that code', () => {
    expect(classifySendError(new SocketAckError('not_member', 'x'))).toEqual({ code: 'not_member', transient: false, unreachable: false });
    expect(classifySendError(new ApiError(400, 'validation_error', 'x'))).toEqual({ code: 'validation_error', transient: false, unreachable: false });
    expect(classifySendError(new ApiError(404, 'not_found', 'x')).transient).toBe(false);
    expect(classifySendError(new UntrustedIdentityError('bob'))).toEqual({ code: 'untrusted_identity', transient: false, unreachable: false });
    expect(classifySendError(new Error('boom'))).toEqual({ code: 'send_failed', transient: false, unreachable: false });
    // A device of mine under another identity key: held until the user removes it, never retried.
    expect(classifySendError(new ApiError(0, 'foreign_device', 'x', { deviceIds: [7] }))).toEqual({ code: 'foreign_device', transient: false, unreachable: false });
  });

  it('when a limit refuses the send, then a full mailbox or an exceeded quota fails it at once and a rate limit is retried', () => {
    expect(classifySendError(new SocketAckError('mailbox_full', 'x'))).toEqual({ code: 'mailbox_full', transient: false, unreachable: false });
    expect(classifySendError(new ApiError(409, 'mailbox_full', 'x'))).toEqual({ code: 'mailbox_full', transient: false, unreachable: false });
    expect(classifySendError(new ApiError(413, 'quota_exceeded', 'x'))).toEqual({ code: 'quota_exceeded', transient: false, unreachable: false });
    expect(classifySendError(new SocketAckError('rate_limited', 'x'))).toEqual({ code: 'rate_limited', transient: true, unreachable: false });
    expect(classifySendError(new ApiError(429, 'rate_limited', 'x'))).toEqual({ code: 'rate_limited', transient: true, unreachable: false });
  });
});
