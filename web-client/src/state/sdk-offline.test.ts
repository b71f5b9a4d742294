import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatClient } from '@cipherchat/client';
import type { ChatEvent } from './chat-api.js';

const stored = vi.hoisted(() => ({ userId: undefined as string | undefined }));
vi.mock('./last-account.js', () => ({
  lastAccount: {
    get: async () => stored.userId,
    set: async (id: string) => {
      stored.userId = id;
    },
    clear: async () => {
      stored.userId = undefined;
    },
  },
}));
vi.mock('@cipherchat/client', () => ({
  ApiError: class ApiError extends Error {
    constructor(
      readonly status: number,
      readonly code: string,
      message: string,
    ) {
      super(message);
    }
  },
  isUnreachable: (err: unknown) => (err as { code?: string }).code === 'network_error',
}));

const { ApiError } = await import('@cipherchat/client');
const { offlineSessions } = await import('./sdk-offline.js');

const ME = {
  id: '00000000-0000-4000-8000-00000000000b',
  username: 'bob',
  displayName: 'Bob',
  email: 'bob@example.test',
  emailVerified: true,
  createdAt: '2026-01-01T00:00:00.000Z',
};

function setUp(connect: () => Promise<void>) {
  const client = {
    offline: true,
    resume: vi.fn(async () => ME),
    connect: vi.fn(connect),
  };
  const events: ChatEvent[] = [];
  const ended = vi.fn();
  const sessions = offlineSessions({
    client: client as unknown as ChatClient,
    emit: (e) => events.push(e),
    started: (u) => ({
      id: u.id,
      username: u.username,
      displayName: u.displayName,
      email: u.email,
      emailVerified: true,
    }),
    signedIn: () => true,
    endSession: ended,
  });
  return { client, events, ended, sessions };
}

describe('offline sessions', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    stored.userId = undefined;
  });

  it('when no account is signed in on this browser, then nothing opens offline', async () => {
    const { client, sessions } = setUp(async () => undefined);
    expect(await sessions.resume()).toEqual({ kind: 'none' });
    expect(client.resume).not.toHaveBeenCalled();
  });

  it('when the signed-in account opens offline, then the banner shows and the session completes once the server answers', async () => {
    stored.userId = ME.id;
    let reachable = false;
    const { client, events, sessions } = setUp(async () => {
      if (!reachable) throw new ApiError(0, 'network_error', 'down');
      client.offline = false;
    });
    const r = await sessions.resume();
    expect(r.kind).toBe('active');
    expect(client.resume).toHaveBeenCalledWith({ offlineAs: ME.id });
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toContainEqual({ type: 'connection', online: false });
    // Still down: tried again later, by itself.
    await vi.advanceTimersByTimeAsync(2000);
    expect(client.connect).toHaveBeenCalledTimes(1);
    reachable = true;
    await vi.advanceTimersByTimeAsync(4000);
    expect(client.connect).toHaveBeenCalledTimes(2);
    expect(events).toContainEqual({ type: 'conversationsChanged' });
  });

  it('when the server says the session is over, then it ends (login screen)', async () => {
    stored.userId = ME.id;
    const { ended, sessions } = setUp(async () => {
      throw new ApiError(401, 'unauthorized', 'the session ended');
    });
    await sessions.resume();
    await sessions.complete();
    expect(ended).toHaveBeenCalledOnce();
  });
});
