import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ipBucket } from '../domain/lockout.js';

/**
 * Pending OPAQUE server login states, in Redis so a finish may reach any replica. They are kept
 * per (email, client IP bucket): a stranger's anonymous starts (which push out the oldest
 * pending state) or failed finishes (which drop every pending state) for my address, from their
 * own address, never touch my pending login, so they cannot make my finish fail and count as a
 * failed proof from my address.
 */
export interface LoginStateStore {
  /** Keeps a state for one email from one client (a few concurrent logins are allowed). */
  push(email: string, ip: string, state: string): Promise<void>;
  /**
   * Tries the pending states of an email from this client with `verify`; the first that
   * verifies is taken out atomically (so a replayed finish finds nothing). On failure every
   * pending state of that (email, client) is dropped: one start buys exactly one finish attempt.
   * @returns whether a state verified and was consumed by this call
   */
  consume(email: string, ip: string, verify: (state: string) => boolean): Promise<boolean>;
}

const MAX_PENDING = 5;

/**
 * Creates the store.
 * @param redis client
 * @param prefix key prefix
 * @param ttlSeconds how long a start stays finishable
 * @returns the store
 */
export function createLoginStateStore(redis: Redis, prefix: string, ttlSeconds: number): LoginStateStore {
  // Keys use digests so Redis (and its dumps) hold no addresses and no client IPs.
  const digest = (s: string) => createHash('sha256').update(s).digest('base64url');
  const key = (email: string, ip: string) => `${prefix}login:${digest(email)}:${digest(ipBucket(ip))}`;
  return {
    async push(email, ip, state) {
      const k = key(email, ip);
      await redis.multi().lpush(k, state).ltrim(k, 0, MAX_PENDING - 1).expire(k, ttlSeconds).exec();
    },
    async consume(email, ip, verify) {
      const k = key(email, ip);
      const states = await redis.lrange(k, 0, MAX_PENDING - 1);
      for (const state of states) {
        if (!verify(state)) continue;
        // LREM is atomic: of two replicas finishing with the same request, only one removes it.
        const removed = await redis.lrem(k, 1, state);
        return removed === 1;
      }
      if (states.length) await redis.del(k);
      return false;
    },
  };
}
