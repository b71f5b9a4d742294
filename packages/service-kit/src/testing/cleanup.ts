import amqp from 'amqplib';
import { Redis } from 'ioredis';

/**
 * Deletes a run's queues (each with its `.retry` and `.dlq` queue) and its exchange. Missing
 * ones are fine (a run that failed half-way); each delete uses its own channel because a
 * channel error closes the channel.
 * @param url admin AMQP URL
 * @param exchange the run's exchange (undefined: keep it)
 * @param queues base queue names
 */
export async function deleteBusObjects(url: string, exchange: string | undefined, queues: readonly string[]): Promise<void> {
  const conn = await amqp.connect(url);
  const attempt = async (op: (ch: amqp.Channel) => Promise<unknown>) => {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await op(ch).catch(() => undefined);
    await ch.close().catch(() => undefined);
  };
  try {
    for (const base of queues) for (const q of [base, `${base}.retry`, `${base}.dlq`]) await attempt((ch) => ch.deleteQueue(q));
    if (exchange) await attempt((ch) => ch.deleteExchange(exchange));
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/**
 * Deletes every Redis key matching a pattern (a run's presence, last-seen, rate-limit and
 * login-state keys).
 * @param url Redis URL
 * @param pattern SCAN pattern, e.g. {@link RunNames.redisPattern}
 */
export async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
