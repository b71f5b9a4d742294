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

describe('the SDK in cookie mode over withSerialisedRefresh', () => {
  it('when two calls find the session expired, then one refresh runs, under the lock, and both calls are retried', async () => {
    const { ApiClient } = await import('@cipherchat/client');
    const calls: string[] = [];
    let lockRequests = 0;
    const locks = fakeLocks();
    const counting: LockManager = {
      ...locks,
      request: ((...args: Parameters<LockManager['request']>) => {
        lockRequests += 1;
        return (locks.request as (...a: unknown[]) => Promise<unknown>)(...args);
      }) as LockManager['request'],
    };
    let refreshed = false;
    const base = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      calls.push(`${init?.method ?? 'GET'} ${url} ${init?.credentials ?? ''}`);
      if (url === '/api/user/auth/refresh') {
        refreshed = true;
        return new Response(
          JSON.stringify({
            user: {
              id: '00000000-0000-4000-8000-00000000000a',
              username: 'alice',
              displayName: 'Alice',
              email: 'alice@example.test',
              emailVerified: true,
              createdAt: '2026-01-01T00:00:00.000Z',
            },
            accessToken: 'a',
            accessTokenExpiresAt: '2026-01-01T00:15:00.000Z',
          }),
          { status: 200 },
        );
      }
      if (!refreshed) {
        return new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'no token' } }), { status: 401 });
      }
      return new Response(JSON.stringify({ devices: [] }), { status: 200 });
    }) as typeof fetch;
    const api = new ApiClient({ baseUrl: '', auth: 'cookies', fetch: withSerialisedRefresh(base, counting) });
    await expect(Promise.all([api.chat.myDevices(), api.chat.myDevices()])).resolves.toEqual([[], []]);
    expect(calls.filter((c) => c.includes('/auth/refresh'))).toEqual(['POST /api/user/auth/refresh include']);
    expect(lockRequests).toBe(1);
    expect(calls.every((c) => c.endsWith(' include'))).toBe(true);
  });
});
