import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import { ApiError } from '../transport/api-error.js';
import {
  cachedWhenUnreachable,
  isUnreachable,
  OFFLINE_RESUME_MAX_AGE_MS,
  offlineCache,
} from './offline-cache.js';

const ME = {
  id: '00000000-0000-4000-8000-00000000000a',
  username: 'alice',
  displayName: 'Alice',
  email: 'alice@example.test',
  emailVerified: true,
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('offline cache', () => {
  it('when the server confirmed the session, then the account opens offline until the refresh lifetime has passed, and only for that account', async () => {
    const store = createMemoryStore();
    expect(await offlineCache.me(store, ME.id)).toBeUndefined();
    await offlineCache.confirmed(store, ME);
    const now = Date.now();
    expect(await offlineCache.me(store, ME.id, now)).toMatchObject({ id: ME.id });
    expect(
      await offlineCache.me(store, '00000000-0000-4000-8000-00000000000b', now),
    ).toBeUndefined();
    expect(
      await offlineCache.me(store, ME.id, now + OFFLINE_RESUME_MAX_AGE_MS + 1000),
    ).toBeUndefined();
  });

  it('when the server cannot be reached, then the last answer is used; an answer such as 401 is never replaced by the copy', async () => {
    const store = createMemoryStore();
    const user = { id: ME.id, username: 'alice', displayName: 'Alice' };
    const read = () => offlineCache.user(store, ME.id);
    const save = (u: typeof user) => offlineCache.saveUser(store, u);
    expect(await cachedWhenUnreachable(false, async () => user, save, read)).toEqual(user);
    const down = async () => {
      throw new ApiError(0, 'network_error', 'down');
    };
    expect(await cachedWhenUnreachable(false, down, save, read)).toEqual(user);
    expect(await cachedWhenUnreachable(true, down, save, read)).toEqual(user);
    const refused = async () => {
      throw new ApiError(401, 'unauthorized', 'no');
    };
    await expect(cachedWhenUnreachable(false, refused, save, read)).rejects.toMatchObject({
      status: 401,
    });
    await expect(
      cachedWhenUnreachable(false, down, save, async () => undefined),
    ).rejects.toMatchObject({ code: 'network_error' });
  });

  it('when sorting errors, then no network and 502/503/504 are unreachable, answers are not', () => {
    expect(isUnreachable(new ApiError(0, 'network_error', 'x'))).toBe(true);
    expect(isUnreachable(new ApiError(502, 'unavailable', 'x'))).toBe(true);
    expect(isUnreachable(new ApiError(504, 'whatever', 'x'))).toBe(true);
    expect(isUnreachable(new ApiError(401, 'unauthorized', 'x'))).toBe(false);
    expect(isUnreachable(new ApiError(500, 'internal_error', 'x'))).toBe(false);
    expect(isUnreachable(new Error('x'))).toBe(false);
  });
});
