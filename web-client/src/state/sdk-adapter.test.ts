import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatEvent } from './chat-api.js';

/** A stand-in for the SDK's ChatClient: an emitter plus the few calls the adapter makes here. */
const fake = vi.hoisted(() => {
  type Handler = (payload: unknown) => void;
  /** The SDK's ApiError (status, code, message). */
  class ApiError extends Error {
    constructor(
      readonly status: number,
      readonly code: string,
      message: string,
    ) {
      super(message);
    }
  }
  class FakeChatClient {
    static last: FakeChatClient | undefined;
    handlers = new Map<string, Handler[]>();
    connected = true;
    offline = false;
    api = {
      refreshNow: async () => true,
      user: {
        me: vi.fn(async () => ({
          id: '00000000-0000-4000-8000-00000000000a',
          username: 'alice',
          displayName: 'Alice',
          email: 'alice@example.test',
          emailVerified: true,
          createdAt: '2026-01-01T00:00:00.000Z',
        })),
        searchUsers: vi.fn(async (_q: string, _o: unknown) => ({
          users: [] as unknown[],
          nextCursor: null,
        })),
      },
      chat: { myDevices: vi.fn(async () => [] as unknown[]) },
      notifications: { savePreferences: vi.fn(async (p: unknown) => p) },
    };
    user = { id: '00000000-0000-4000-8000-00000000000a' };
    disconnect = vi.fn();
    deviceId = vi.fn(async () => 1);
    devices = vi.fn(async () => [] as unknown[]);
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
  return { FakeChatClient, ApiError };
});

vi.mock('@cipherchat/client', () => ({
  ApiError: fake.ApiError,
  ChatClient: fake.FakeChatClient,
  createIndexedDbStore: vi.fn(),
  BackupLockedError: class extends Error {},
  UntrustedIdentityError: class extends Error {},
  isUnreachable: (err: unknown) => err instanceof fake.ApiError && err.code === 'network_error',
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

  it('when a signed-in call is refused even after the SDK refreshed, then the session is reported ended once', async () => {
    const { api, client, events } = setUp();
    await api.resume();
    const refused = new fake.ApiError(401, 'unauthorized', 'no session');
    client.devices.mockRejectedValue(refused);
    await expect(api.listDevices()).rejects.toBe(refused);
    await expect(api.listDevices()).rejects.toBe(refused);
    expect(events).toEqual([{ type: 'sessionEnded', reason: 'revoked' }]);
    expect(client.disconnect).toHaveBeenCalledTimes(1);
  });

  it('when the SDK reports a foreign device, a linked device or this device removed, then the UI gets the events and the alerts keep them', async () => {
    const { api, client, events } = setUp();
    await api.resume();
    client.devices.mockResolvedValue([
      {
        deviceId: 1,
        name: 'Chromium on Linux',
        createdAt: '2026-01-01T00:00:00.000Z',
        current: true,
        status: 'linked',
      },
      {
        deviceId: 9,
        name: null,
        createdAt: '2026-01-02T00:00:00.000Z',
        current: false,
        status: 'foreign',
      },
    ]);
    client.fire('foreignDevice', { deviceId: 9, createdAt: '2026-01-02T00:00:00.000Z' });
    client.fire('deviceLinked', { deviceId: 3, name: 'Firefox on Android', linkedAt: 5 });
    expect(events).toEqual([
      { type: 'foreignDevice', deviceId: 9, createdAt: '2026-01-02T00:00:00.000Z' },
      { type: 'deviceLinked', deviceId: 3, name: 'Firefox on Android', linkedAt: 5 },
    ]);
    expect(await api.deviceAlerts()).toEqual({
      foreign: [{ deviceId: 9, createdAt: '2026-01-02T00:00:00.000Z' }],
      needsLogin: false,
    });
    expect((await api.listDevices()).map((d) => [d.name, d.status])).toEqual([
      ['Chromium on Linux', 'linked'],
      [undefined, 'foreign'],
    ]);
    client.fire('deviceRemoved', { needsLogin: true });
    expect((await api.deviceAlerts()).needsLogin).toBe(true);
  });

  it('when another error comes back, then the session stays', async () => {
    const { api, client, events } = setUp();
    await api.resume();
    client.api.user.searchUsers.mockRejectedValueOnce(
      new fake.ApiError(429, 'rate_limited', 'slow down'),
    );
    await expect(api.searchUsers('al', 'c1')).rejects.toMatchObject({ code: 'rate_limited' });
    expect(client.api.user.searchUsers).toHaveBeenCalledWith('al', { cursor: 'c1' });
    expect(events).toEqual([]);
  });

  it('when the session is alive but the keys are not usable here, then resume reports it locked via the SDK', async () => {
    const { api, client } = setUp();
    client.resume.mockResolvedValueOnce(undefined as never);
    await expect(api.resume()).resolves.toEqual({
      kind: 'locked',
      me: {
        id: '00000000-0000-4000-8000-00000000000a',
        username: 'alice',
        displayName: 'Alice',
        email: 'alice@example.test',
        emailVerified: true,
      },
    });
  });

  it('when nobody is signed in, then resume reports none without asking the SDK to reopen a store', async () => {
    const { api, client } = setUp();
    client.api.user.me.mockRejectedValueOnce(new fake.ApiError(401, 'unauthorized', 'no token'));
    await expect(api.resume()).resolves.toEqual({ kind: 'none' });
    expect(client.resume).not.toHaveBeenCalled();
  });

  it("when another member's read receipt arrives, then no status event touches my received copies; my own device's receipt does", () => {
    const { client, events } = setUp();
    const receipt = { conversationId: 'g1', type: 'read', messageIds: ['m1'] };
    // In a group every member gets every receipt: Bob reading Carol's message is not my read.
    client.fire('receipt', { ...receipt, fromUserId: '00000000-0000-4000-8000-00000000000b' });
    expect(events).toEqual([]);
    client.fire('receipt', { ...receipt, fromUserId: client.user.id });
    expect(events).toEqual([
      { type: 'status', conversationId: 'g1', messageIds: ['m1'], status: 'read' },
    ]);
  });

  it('when saving preferences, then only the editable fields are sent', async () => {
    const { api, client } = setUp();
    const prefs = {
      email: { welcome: true, newLogin: false, digest: true },
      digestDelayMinutes: 30,
      digestContent: 'generic' as const,
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    await api.savePreferences(prefs);
    expect(client.api.notifications.savePreferences).toHaveBeenCalledWith({
      email: prefs.email,
      digestDelayMinutes: 30,
      digestContent: 'generic',
    });
  });
});
