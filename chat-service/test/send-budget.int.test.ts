import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { afterAll, describe, expect, it } from 'vitest';
import { RateLimitedError } from '@cipherchat/service-kit';
import { deleteRedisKeys, testInfra } from '@cipherchat/service-kit/testing';
import { SendBudget } from '../src/send-budget.js';

// The per-sender budgets against the real Redis: one script call counts both, processes share
// them, and the in-memory insurance takes over while Redis is unreachable.

const prefix = `test:budget:${randomUUID()}`;
const clients: Redis[] = [];

function client(): Redis {
  const r = new Redis(testInfra.redisUrl, { maxRetriesPerRequest: 1 });
  clients.push(r);
  return r;
}

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await deleteRedisKeys(testInfra.redisUrl, `${prefix}:*`);
});

/** A budget of `messages` and `bytes` per minute, counted through `redis` (the real one by default). */
function budgetOf(messages: number, bytes: number, redis: Redis = client()): SendBudget {
  return new SendBudget(redis, { prefix, messages, bytes, windowSeconds: 60 });
}

async function refusal(p: Promise<unknown>): Promise<RateLimitedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RateLimitedError);
  return err as RateLimitedError;
}

describe('per-sender send budget', () => {
  it('when a user has sent as many messages as the budget, then the next is refused with a retry-after inside the window; another user is not affected', async () => {
    const budget = budgetOf(3, 1_000_000);
    const user = randomUUID();
    for (let i = 0; i < 3; i++) await budget.consume(user, 10);
    const err = await refusal(budget.consume(user, 10));
    expect(err.code).toBe('rate_limited');
    expect(err.status).toBe(429);
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(60);
    await budget.consume(randomUUID(), 10);
  });

  it('when a send takes the user over the bytes budget, then it is refused; a send that ends exactly at the budget is not', async () => {
    const budget = budgetOf(100, 4096);
    const user = randomUUID();
    await budget.consume(user, 3000);
    await budget.consume(user, 1096);
    await refusal(budget.consume(user, 1));
  });

  it('when a user sends several messages at once (one script call), then exactly the budget is allowed and the rest refused', async () => {
    const budget = budgetOf(3, 1_000_000);
    const user = randomUUID();
    const other = randomUUID();
    const answers = await Promise.allSettled([
      ...Array.from({ length: 5 }, () => budget.consume(user, 10)),
      budget.consume(other, 10),
    ]);
    expect(answers.map((a) => a.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    for (const a of answers)
      if (a.status === 'rejected') expect(a.reason).toBeInstanceOf(RateLimitedError);
  });

  it('when two processes count one user, then they share one budget, also with the previous release limiter keys', async () => {
    const user = randomUUID();
    // what the previous release (rate-limiter-flexible) counted is in the same key
    const old = new RateLimiterRedis({
      storeClient: client(),
      keyPrefix: `${prefix}:rl:msg`,
      points: 5,
      duration: 60,
    });
    await old.consume(user);
    const a = budgetOf(5, 1_000_000);
    const b = budgetOf(5, 1_000_000);
    await a.consume(user, 1);
    await b.consume(user, 1);
    await a.consume(user, 1);
    await b.consume(user, 1);
    await refusal(a.consume(user, 1));
    await refusal(b.consume(user, 1));
  });

  it('when Redis is unreachable, then sends go on and this process counts the budget itself', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined); // the refused connection is the point
    clients.push(down);
    const budget = budgetOf(2, 1_000_000, down);
    const user = randomUUID();
    await budget.consume(user, 10);
    await budget.consume(user, 10);
    expect((await refusal(budget.consume(user, 10))).code).toBe('rate_limited');
    const bytes = budgetOf(100, 1024, down);
    await bytes.consume(user, 1024);
    await refusal(bytes.consume(user, 1));
  });
});
