import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { AppError, RateLimitedError } from '@cipherchat/service-kit';
import type { Config } from './config.js';
import { SendBudget } from './send-budget.js';

/** The service's rate limiters. */
export interface RateLimits {
  /** Bundle fetches per requester (Redis: holds across processes). */
  prekeyRequester: RateLimiterRedis;
  /** One-time prekeys handed out per target user (Redis; over it: bundles without one). */
  prekeyTarget: RateLimiterRedis;
  /** Bundle fetches per (requester, target) (Redis). */
  prekeyPair: RateLimiterRedis;
  /** Prekey-consuming fetches per (requester, target) per hour (Redis; over it: bundles without one). */
  prekeyPairOneTime: RateLimiterRedis;
  /** `prekeys:low` pushes per device (one a minute). */
  prekeyLow: RateLimiterRedis;
  /** Other REST calls per user (Redis). */
  http: RateLimiterRedis;
  /** Reports per reporter per hour (Redis). */
  reports: RateLimiterRedis;
  /** Messages and envelope bytes sent per user per minute (Redis: across sockets and processes; one script call per event-loop turn). */
  sends: SendBudget;
  /** Socket events per user, per process (in memory: it sits on the message hot path). */
  socket: RateLimiterMemory;
}

/**
 * @param redis client
 * @param config limits and key prefix
 * @returns the limiters
 */
export function createRateLimits(redis: Redis, config: Config): RateLimits {
  const p = config.REDIS_PREFIX;
  return {
    prekeyRequester: new RateLimiterRedis({ storeClient: redis, keyPrefix: `${p}:rl:pk-req`, points: config.RATE_PREKEY_PER_REQUESTER, duration: 60 }),
    prekeyTarget: new RateLimiterRedis({ storeClient: redis, keyPrefix: `${p}:rl:pk-tgt`, points: config.RATE_PREKEY_PER_TARGET, duration: 60 }),
    prekeyPair: new RateLimiterRedis({ storeClient: redis, keyPrefix: `${p}:rl:pk-pair`, points: config.RATE_PREKEY_PER_PAIR, duration: 60 }),
    prekeyPairOneTime: new RateLimiterRedis({ storeClient: redis, keyPrefix: `${p}:rl:pk-otp`, points: config.PREKEY_ONE_TIME_PER_PAIR_PER_HOUR, duration: 3600 }),
    prekeyLow: new RateLimiterRedis({ storeClient: redis, keyPrefix: `${p}:rl:pk-low`, points: 1, duration: 60 }),
    sends: new SendBudget(redis, { prefix: p, messages: config.RATE_MESSAGES_PER_MIN, bytes: config.RATE_MESSAGE_BYTES_PER_MIN, windowSeconds: 60 }),
    http: new RateLimiterRedis({ storeClient: redis, keyPrefix: `${p}:rl:http`, points: config.RATE_HTTP_PER_MIN, duration: 60 }),
    reports: new RateLimiterRedis({ storeClient: redis, keyPrefix: `${p}:rl:report`, points: config.RATE_REPORTS_PER_HOUR, duration: 3600 }),
    socket: new RateLimiterMemory({ keyPrefix: 'sock', points: config.RATE_SOCKET_EVENTS_PER_SEC, duration: 1 }),
  };
}

/**
 * Consumes one point or throws 429.
 * @param limiter the limiter
 * @param key who is counted
 * @param points how many (default 1; bytes for a byte budget)
 * @throws {RateLimitedError} when over the limit
 * @throws {AppError} 503 `unavailable` when the limiter's store (Redis) fails: limits fail closed
 */
export async function consumeOrThrow(limiter: RateLimiterRedis | RateLimiterMemory, key: string, points = 1): Promise<void> {
  try {
    await limiter.consume(key, points);
  } catch (err) {
    if (err instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
    throw new AppError(503, 'unavailable', 'temporarily unavailable, try again', undefined, { cause: err });
  }
}

/**
 * Consumes one point if there is one left, without throwing: for limits whose answer is a
 * lesser service rather than a refusal.
 * @param limiter the limiter
 * @param key who is counted
 * @returns true when a point was consumed; false when over the limit or the store failed
 *   (the lesser service is the safe side)
 */
export async function tryConsume(limiter: RateLimiterRedis | RateLimiterMemory, key: string): Promise<boolean> {
  try {
    await limiter.consume(key);
    return true;
  } catch {
    return false;
  }
}
