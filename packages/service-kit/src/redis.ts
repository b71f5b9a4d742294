import { Redis } from 'ioredis';

/**
 * Connects to Redis (rate limits, Socket.IO adapter). Commands issued while disconnected
 * fail fast instead of queueing forever, so a Redis outage shows up as errors, not hangs.
 * @param url redis:// URL
 * @param name connection name (visible in CLIENT LIST)
 * @returns the client
 */
export function createRedis(url: string, name: string): Redis {
  return new Redis(url, { connectionName: name, maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
}

/**
 * Readiness check for Redis.
 * @param redis the client
 * @returns true when PING answers
 */
export async function isRedisReady(redis: Redis): Promise<boolean> {
  return (await redis.ping()) === 'PONG';
}

export type { Redis } from 'ioredis';
