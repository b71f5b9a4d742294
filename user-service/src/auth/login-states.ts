import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Pending OPAQUE server login states, in Redis so a finish may reach any replica. */
export interface LoginStateStore {
  /** Keeps a state for one email (a few concurrent logins per email are allowed). */
  push(email: string, state: string): Promise<void>;
  /**
   * Tries the pending states of an email with `verify`; the first that verifies is taken out
   * atomically (so a replayed finish finds nothing). On failure every pending state of the email
   * is dropped: one start buys exactly one finish attempt.
   * @returns whether a state verified and was consumed by this call
   */
  consume(email: string, verify: (state: string) => boolean): Promise<boolean>;
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
  // Keys use a digest of the email so Redis (and its dumps) hold no addresses.
  const key = (email: string) => `${prefix}login:${createHash('sha256').update(email).digest('base64url')}`;
  return {
    async push(email, state) {
      const k = key(email);
      await redis.multi().lpush(k, state).ltrim(k, 0, MAX_PENDING - 1).expire(k, ttlSeconds).exec();
    },
    async consume(email, verify) {
      const k = key(email);
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
