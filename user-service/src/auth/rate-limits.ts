import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RequestHandler } from 'express';
import { AppError, RateLimitedError } from '@cipherchat/service-kit';
import { ipBucket, lockoutSeconds } from '../domain/lockout.js';

/** Knobs of {@link createRateLimits} (from the config). */
export interface RateLimitOptions {
  prefix: string;
  ipPoints: number;
  ipWindowSeconds: number;
  /** Failed proofs for one (account, client IP) before that pair is locked. */
  maxFailures: number;
  /** Failed proofs for one account from all IPs together before the whole account is locked. */
  accountMaxFailures: number;
  failureWindowSeconds: number;
  lockoutBaseSeconds: number;
  lockoutMaxSeconds: number;
  emailRequestsPerHour: number;
  /** Directory searches per account per minute (fixed window: the whole budget may come at once). */
  directoryPerMinute: number;
}

/**
 * Brute-force defences, all held in Redis so they hold across replicas. Only failed proofs (a
 * `login/finish` that does not verify) count, never a `login/start`; they count per (account,
 * client IP) and, with a higher ceiling, per account. So a stranger cannot lock the owner out
 * from the owner's own address, and a distributed guesser still meets the account ceiling.
 */
export interface RateLimits {
  /** Middleware: per-IP budget on the auth routes (429 `rate_limited`). */
  perIp: RequestHandler;
  /**
   * Counts one failed proof for (account, IP) and for the account. The failure that reaches a
   * limit locks it (for a lockout that doubles each time) and is answered 429 `account_locked`.
   * @throws {RateLimitedError} `account_locked` when this failure locked the pair or the account
   */
  countFailedProof(email: string, ip: string): Promise<void>;
  /**
   * Refuses while the (account, IP) pair or the whole account is locked, without counting.
   * @throws {RateLimitedError} `account_locked`
   */
  assertNotLocked(email: string, ip: string): Promise<void>;
  /** A successful login from this IP: that pair's failures and lockout history start over. */
  loginSucceeded(email: string, ip: string): Promise<void>;
  /** A password reset: every lock of the account (every IP and the account-wide one) is lifted. */
  resetAccount(email: string): Promise<void>;
  /** Whether another email (reset / verification link) may go to this address now. */
  allowEmail(email: string): Promise<boolean>;
  /**
   * Counts one directory search by this account (per account, not per IP: a scraper with many
   * IPs still has one token, and a crowd behind one NAT is not throttled together).
   * @throws {RateLimitedError} `rate_limited` (429 with `Retry-After`) once the minute's budget is spent
   */
  countDirectorySearch(userId: string): Promise<void>;
}

// Keys hold digests, so Redis (and its dumps) hold no addresses and no client IPs.
const digest = (s: string) => createHash('sha256').update(s).digest('base64url');

/** One lockable counter: `points` failures in the window lock the key for a doubling time. */
interface Lock {
  locked(key: string): Promise<RateLimiterRes | undefined>;
  /** @returns the lockout length in seconds when this failure locked the key */
  fail(key: string): Promise<number | undefined>;
  clear(key: string): Promise<void>;
}

function createLock(redis: Redis, prefix: string, points: number, o: RateLimitOptions): Lock {
  const failures = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: prefix,
    points,
    duration: o.failureWindowSeconds,
  });
  // How many times the key was locked in the last day: the next lockout doubles.
  const lockouts = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${prefix}-n`,
    points: 1_000_000,
    duration: 24 * 3600,
  });
  return {
    async locked(key) {
      const res = await failures.get(key);
      return res && res.consumedPoints >= points ? res : undefined;
    },
    async fail(key) {
      let consumed: number;
      try {
        consumed = (await failures.consume(key)).consumedPoints;
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        consumed = err.consumedPoints;
      }
      // Exactly one request sees the points-th failure (INCR is atomic): it sets the lockout.
      if (consumed !== points) return consumed > points ? 0 : undefined;
      const n = (
        await lockouts
          .consume(key)
          .catch((e: unknown) => (e instanceof RateLimiterRes ? e : Promise.reject(e)))
      ).consumedPoints;
      const seconds = lockoutSeconds(n, o.lockoutBaseSeconds, o.lockoutMaxSeconds);
      await failures.block(key, seconds);
      return seconds;
    },
    async clear(key) {
      await Promise.all([failures.delete(key), lockouts.delete(key)]);
    },
  };
}

/**
 * Creates the limiters.
 * @param redis shared client
 * @param o knobs
 * @returns the limiters
 */
export function createRateLimits(redis: Redis, o: RateLimitOptions): RateLimits {
  const ip = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${o.prefix}rl:ip`,
    points: o.ipPoints,
    duration: o.ipWindowSeconds,
  });
  const pair = createLock(redis, `${o.prefix}rl:login`, o.maxFailures, o);
  const account = createLock(redis, `${o.prefix}rl:account`, o.accountMaxFailures, o);
  const mails = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${o.prefix}rl:mail`,
    points: o.emailRequestsPerHour,
    duration: 3600,
  });
  const directory = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${o.prefix}rl:dir`,
    points: o.directoryPerMinute,
    duration: 60,
  });
  // A reset lifts the locks of every IP at once: pair keys carry the account's generation,
  // which a reset bumps (the old keys then simply expire).
  const genKey = (email: string) => `${o.prefix}rl:gen:${digest(email)}`;
  const pairKey = async (email: string, clientIp: string) => {
    const gen = (await redis.get(genKey(email))) ?? '0';
    return `${digest(email)}:${gen}:${digest(ipBucket(clientIp))}`;
  };

  // Redis down: fail closed with 503 rather than letting unlimited guesses through.
  const unavailable = (err: unknown) =>
    new AppError(503, 'unavailable', 'rate limiter unavailable', undefined, { cause: err });
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof RateLimitedError) throw err;
      throw unavailable(err);
    }
  };
  const retryAfter = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

  return {
    perIp: async (req, _res, next) => {
      try {
        await ip.consume(req.ip ?? 'unknown');
      } catch (err) {
        if (err instanceof RateLimiterRes)
          throw new RateLimitedError(retryAfter(err), 'rate_limited');
        throw unavailable(err);
      }
      next();
    },
    countFailedProof: (email, clientIp) =>
      guarded(async () => {
        const [p, a] = await Promise.all([
          pairKey(email, clientIp).then((k) => pair.fail(k)),
          account.fail(digest(email)),
        ]);
        const seconds = Math.max(p ?? -1, a ?? -1);
        if (seconds >= 0) throw new RateLimitedError(Math.max(1, seconds), 'account_locked');
      }),
    assertNotLocked: (email, clientIp) =>
      guarded(async () => {
        const [p, a] = await Promise.all([
          pairKey(email, clientIp).then((k) => pair.locked(k)),
          account.locked(digest(email)),
        ]);
        const res = p ?? a;
        if (res) throw new RateLimitedError(retryAfter(res), 'account_locked');
      }),
    loginSucceeded: (email, clientIp) =>
      guarded(async () => pair.clear(await pairKey(email, clientIp))),
    resetAccount: (email) =>
      guarded(async () => {
        await redis
          .multi()
          .incr(genKey(email))
          .expire(genKey(email), Math.max(o.failureWindowSeconds, 24 * 3600))
          .exec();
        await account.clear(digest(email));
      }),
    async countDirectorySearch(userId) {
      try {
        await directory.consume(userId);
      } catch (err) {
        if (err instanceof RateLimiterRes)
          throw new RateLimitedError(retryAfter(err), 'rate_limited');
        throw unavailable(err);
      }
    },
    async allowEmail(email) {
      try {
        await mails.consume(digest(email));
        return true;
      } catch (err) {
        if (err instanceof RateLimiterRes) return false;
        throw unavailable(err);
      }
    },
  };
}
