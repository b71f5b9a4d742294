import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Presence } from './presence.js';

/** Just enough of ioredis for join and the send path's lookups; lookups answer when released. */
function fakeRedis() {
  const sets = new Map<string, Map<string, number>>();
  const pending: (() => void)[] = [];
  const chain = (ops: (() => unknown)[]) => {
    const c = {
      zremrangebyscore: () => (ops.push(() => 0), c),
      zadd: (key: string, score: number, member: string) => (ops.push(() => (sets.get(key) ?? sets.set(key, new Map()).get(key))!.set(member, score)), c),
      zcard: (key: string) => (ops.push(() => sets.get(key)?.size ?? 0), c),
      pexpire: () => (ops.push(() => 1), c),
      exec: async () => ops.map((op) => [null, op()]),
    };
    return c;
  };
  const redis = {
    multi: () => chain([]),
    // answers with the state at call time, once released (a lookup in flight)
    zrangebyscore: (key: string) => {
      const members = [...(sets.get(key)?.keys() ?? [])];
      return new Promise<string[]>((resolve) => pending.push(() => resolve(members)));
    },
  };
  return { redis: redis as unknown as Redis, release: () => pending.splice(0).forEach((f) => f()), lookups: () => pending.length };
}

describe('Presence.recentLiveSockets', () => {
  it('when a lookup is reused within maxAgeMs, then Redis is asked once', async () => {
    const { redis, release, lookups } = fakeRedis();
    const p = new Presence(redis, 't');
    const first = p.recentLiveSockets(['u1'], 500);
    release();
    expect((await first).live.size).toBe(0);
    const again = await p.recentLiveSockets(['u1'], 500);
    expect(again.live.size).toBe(0);
    expect(lookups()).toBe(0);
  });

  it('when the user connects here while a lookup of them is in flight, then its older answer is not reused', async () => {
    const { redis, release } = fakeRedis();
    const p = new Presence(redis, 't');
    const inFlight = p.recentLiveSockets(['u1'], 60_000); // reads "offline"
    await p.join('u1', 1, 'socket-a');
    release();
    expect((await inFlight).live.has('u1')).toBe(false);
    // the next send looks again and sees the socket, instead of the stale "offline"
    const next = p.recentLiveSockets(['u1'], 60_000);
    release();
    expect((await next).live.get('u1')?.get(1)).toEqual(['socket-a']);
  });
});
