import { describe, expect, it } from 'vitest';
import { withSerialisedRefresh } from './refresh-lock.js';

/** A minimal exclusive lock manager (jsdom has none). */
function fakeLocks(): LockManager {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    request: ((_name: string, _opts: unknown, cb: () => Promise<unknown>) => {
      const run = tail.then(cb);
      tail = run.catch(() => undefined);
      return run;
    }) as LockManager['request'],
    query: async () => ({ held: [], pending: [] }),
  };
}

describe('withSerialisedRefresh', () => {
  it('when two refreshes start together, then the second starts only after the first finished', async () => {
    const events: string[] = [];
    let n = 0;
    const base = (async () => {
      const id = (n += 1);
      events.push(`start ${id}`);
      await new Promise((r) => setTimeout(r, 20));
      events.push(`end ${id}`);
      return new Response('{}');
    }) as typeof fetch;
    const f = withSerialisedRefresh(base, fakeLocks());
    await Promise.all([
      f('/api/user/auth/refresh', { method: 'POST' }),
      f('/api/user/auth/refresh', { method: 'POST' }),
    ]);
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('when other requests run, then they are not held by the lock', async () => {
    const events: string[] = [];
    const base = (async (input: RequestInfo | URL) => {
      events.push(`start ${String(input)}`);
      await new Promise((r) => setTimeout(r, 20));
      events.push(`end ${String(input)}`);
      return new Response('{}');
    }) as typeof fetch;
    const f = withSerialisedRefresh(base, fakeLocks());
    await Promise.all([f('/api/chat/conversations'), f('/api/user/me')]);
    expect(events.slice(0, 2)).toEqual(['start /api/chat/conversations', 'start /api/user/me']);
  });
});
