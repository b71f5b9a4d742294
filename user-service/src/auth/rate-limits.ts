import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RequestHandler } from 'express';
import { AppError, RateLimitedError } from '@cipherchat/service-kit';
import { lockoutSeconds } from '../domain/lockout.js';

/** Knobs of {@link createRateLimits} (from the config). */
export interface RateLimitOptions {
  prefix: string;
  ipPoints: number;
  ipWindowSeconds: number;
  maxFailures: number;
  failureWindowSeconds: number;
  lockoutBaseSeconds: number;
  lockoutMaxSeconds: number;
  emailRequestsPerHour: number;
}

/** Brute-force defences, all held in Redis so they hold across replicas. */
export interface RateLimits {
  /** Middleware: per-IP budget on the auth routes (429 `rate_limited`). */
  perIp: RequestHandler;
  /**
   * Counts one login attempt for an account (a start that has not yet succeeded). After
   * `maxFailures` attempts without a success, refuses with 429 `account_locked` for a lockout
   * that doubles each time.
   * @throws {RateLimitedError}
   */
  countLoginAttempt(email: string): Promise<{ lockedNow: boolean }>;
  /** Refuses while the account is locked, without counting. */
  assertNotLocked(email: string): Promise<void>;
  /** A successful login: the account's failure count and lockout history start over. */
  resetAccount(email: string): Promise<void>;
  /** Whether another email (reset / verification link) may go to this address now. */
  allowEmail(email: string): Promise<boolean>;
}

const emailKey = (email: string) => createHash('sha256').update(email).digest('base64url');

/**
 * Creates the limiters.
 * @param redis shared client
 * @param o knobs
 * @returns the limiters
 */
export function createRateLimits(redis: Redis, o: RateLimitOptions): RateLimits {
  const ip = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${o.prefix}rl:ip`, points: o.ipPoints, duration: o.ipWindowSeconds });
  const failures = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${o.prefix}rl:login`,
    points: o.maxFailures,
    duration: o.failureWindowSeconds,
  });
  // How many times an account was locked in the last day: the next lockout doubles.
  const lockouts = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${o.prefix}rl:lockouts`, points: 1_000_000, duration: 24 * 3600 });
  const mails = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${o.prefix}rl:mail`, points: o.emailRequestsPerHour, duration: 3600 });

  // Redis down: fail closed with 503 rather than letting unlimited guesses through.
  const unavailable = (err: unknown) => new AppError(503, 'unavailable', 'rate limiter unavailable', undefined, { cause: err });
  const retryAfter = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

  return {
    perIp: async (req, _res, next) => {
      try {
        await ip.consume(req.ip ?? 'unknown');
      } catch (err) {
        if (err instanceof RateLimiterRes) throw new RateLimitedError(retryAfter(err), 'rate_limited');
        throw unavailable(err);
      }
      next();
    },
    async countLoginAttempt(email) {
      const key = emailKey(email);
      try {
        await failures.consume(key);
        return { lockedNow: false };
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw unavailable(err);
        // Exactly one request sees the (max+1)-th point (INCR is atomic): it sets the lockout.
        if (err.consumedPoints === o.maxFailures + 1) {
          const n = (await lockouts.consume(key).catch((e: unknown) => (e instanceof RateLimiterRes ? e : undefined)))?.consumedPoints ?? 1;
          const seconds = lockoutSeconds(n, o.lockoutBaseSeconds, o.lockoutMaxSeconds);
          await failures.block(key, seconds);
          throw new RateLimitedError(seconds, 'account_locked');
        }
        throw new RateLimitedError(retryAfter(err), 'account_locked');
      }
    },
    async assertNotLocked(email) {
      let res: RateLimiterRes | null;
      try {
        res = await failures.get(emailKey(email));
      } catch (err) {
        throw unavailable(err);
      }
      if (res && res.consumedPoints > o.maxFailures) throw new RateLimitedError(retryAfter(res), 'account_locked');
    },
    async resetAccount(email) {
      const key = emailKey(email);
      await Promise.all([failures.delete(key), lockouts.delete(key)]).catch((err: unknown) => {
        throw unavailable(err);
      });
    },
    async allowEmail(email) {
      try {
        await mails.consume(emailKey(email));
        return true;
      } catch (err) {
        if (err instanceof RateLimiterRes) return false;
        throw unavailable(err);
      }
    },
  };
}
