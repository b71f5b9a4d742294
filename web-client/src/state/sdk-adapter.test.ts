import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatEvent } from './chat-api.js';

/** A stand-in for the SDK's ChatClient: an emitter plus the few calls the adapter makes here. */
const fake = vi.hoisted(() => {
  type Handler = (payload: unknown) => void;
  class FakeChatClient {
    static last: FakeChatClient | undefined;
    handlers = new Map<string, Handler[]>();
    connected = true;
    api = { refreshNow: async () => true };
    resume = vi.fn(async () => ({
      id: '00000000-0000-4000-8000-00000000000a',
      username: 'alice',
      displayName: 'Alice',
      email: 'alice@example.test',
      emailVerified: true,
    }));
    connect = vi.fn(async () => undefined);
    syncMailbox = vi.fn(async () => undefined);
    flushBackup = vi.fn(async () => undefined);
    presence = vi.fn(async (_ids: string[]) => [] as unknown[]);
    constructor() {
      FakeChatClient.last = this;
    }
    on(event: string, handler: Handler) {
      this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    }
    fire(event: string, payload?: unknown) {
      for (const h of this.handlers.get(event) ?? []) h(payload);
    }
  }
  return { FakeChatClient };
});

vi.mock('@cipherchat/client', () => ({
  ChatClient: fake.FakeChatClient,
  createIndexedDbStore: vi.fn(),
  BackupLockedError: class extends Error {},
  UntrustedIdentityError: class extends Error {},
}));

const { BACKUP_CHECK_TIMEOUT_MS, createChatApi } = await import('./sdk-adapter.js');

function setUp() {
  const api = createChatApi();
  const client = fake.FakeChatClient.last!;
  const events: ChatEvent[] = [];
  api.subscribe((e) => events.push(e));
  return { api, client, events };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('sdk-adapter', () => {
  it('when the SDK reports the socket down and back, then the UI gets connection events', () => {
    const { client, events } = setUp();
    client.fire('connection', { online: false });
    client.fire('connection', { online: true });
    expect(events).toEqual([
      { type: 'connection', online: false },
      { type: 'connection', online: true },
    ]);
  });

  it('when the browser is back online and the socket still up, then online is reported only after a round trip', async () => {
    const { api, client, events } = setUp();
    await api.resume();
    let answer!: () => void;
    client.syncMailbox.mockImplementationOnce(
      () => new Promise<undefined>((r) => (answer = () => r(undefined))),
    );
    window.dispatchEvent(new Event('online'));
    await Promise.resolve();
    expect(events).toEqual([]);
    answer();
    await vi.waitFor(() => expect(events).toEqual([{ type: 'connection', online: true }]));
  });

  it('when the browser is back online and the socket is down, then the SDK is asked to connect and nothing is reported yet', async () => {
    const { api, client, events } = setUp();
    await api.resume();
    client.connected = false;
    window.dispatchEvent(new Event('online'));
    await Promise.resolve();
    expect(client.connect).toHaveBeenCalled();
    expect(events).toEqual([]);
  });

  it('when the backup upload never settles, then the backup counts as not up to date after the timeout', async () => {
    vi.useFakeTimers();
    const { api, client } = setUp();
    client.flushBackup.mockImplementationOnce(() => new Promise<undefined>(() => undefined));
    const answer = api.isBackupUpToDate();
    await vi.advanceTimersByTimeAsync(BACKUP_CHECK_TIMEOUT_MS);
    await expect(answer).resolves.toBe(false);
  });

  it('when the backup upload fails or succeeds, then the check says so', async () => {
    const { api, client } = setUp();
    await expect(api.isBackupUpToDate()).resolves.toBe(true);
    client.flushBackup.mockRejectedValueOnce(new Error('down'));
    await expect(api.isBackupUpToDate()).resolves.toBe(false);
  });

  it('when asking for presence, then never-seen users have no lastSeenAt and nothing is asked without a socket', async () => {
    const { api, client } = setUp();
    const bob = '00000000-0000-4000-8000-00000000000b';
    client.presence.mockResolvedValueOnce([{ userId: bob, online: false, lastSeenAt: null }]);
    await expect(api.presence([bob])).resolves.toEqual([{ userId: bob, online: false }]);
    client.connected = false;
    await expect(api.presence([bob])).resolves.toEqual([]);
    expect(client.presence).toHaveBeenCalledTimes(1);
  });
});
