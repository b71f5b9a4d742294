import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/chat-client.js';
import { createIndexedDbStore } from '../src/storage/indexeddb-backend.js';
import { account, startStack, type Stack } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/**
 * A browser-like client (IndexedDB store) whose network can be pulled: while `net.down`, every
 * HTTP call fails as a dead network does (the socket is only made after `connect()`).
 */
function browserWithNetwork(factory: IDBFactory, net: { down: boolean }): ChatClient {
  const fetchImpl: typeof fetch = (input, init) =>
    net.down ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
  return new ChatClient({
    userApiUrl: `${stack.userUrl}/api/user`,
    chatApiUrl: `${stack.chatUrl}/api/chat`,
    socketUrl: stack.chatUrl,
    deviceName: 'alice browser',
    backupDebounceMs: 20,
    fetch: fetchImpl,
    openStore: (userId) => createIndexedDbStore(`cipherchat-${userId}`, factory),
  });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('offline session', () => {
  it('when the server cannot be reached at reload, then the account opens from its local store and what is written offline reaches Bob once the server answers, with no retry', async () => {
    const factory = new IDBFactory();
    const net = { down: false };
    const alice = browserWithNetwork(factory, net);
    const bob = stack.client('bob');
    await alice.signUp(account('alice'));
    await bob.signUp(account('bob'));
    const conv = await bob.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    const first = alice.next('message', (m) => m.text === 'before the outage');
    await bob.sendText(conv.id, 'before the outage');
    await first;
    // What the app shows: the list and the names, as the server gave them.
    expect((await alice.listConversations()).map((c) => c.id)).toEqual([conv.id]);
    expect((await alice.getUser(bob.user.id)).displayName).toBe(bob.user.displayName);
    const tokens = alice.tokens();
    alice.disconnect();

    // "Reload" with the network down.
    net.down = true;
    // Without knowing which account was signed in here, nothing opens.
    await expect(browserWithNetwork(factory, net).resume()).rejects.toMatchObject({
      code: 'network_error',
    });
    const reloaded = browserWithNetwork(factory, net);
    reloaded.api.setTokens(tokens);
    const me = await reloaded.resume({ offlineAs: alice.user.id });
    expect(me?.id).toBe(alice.user.id);
    expect(reloaded.offline).toBe(true);
    expect(reloaded.connected).toBe(false);
    expect((await reloaded.history(conv.id)).map((m) => m.text)).toEqual(['before the outage']);
    expect((await reloaded.listConversations()).map((c) => c.id)).toEqual([conv.id]);
    expect((await reloaded.getUser(bob.user.id)).displayName).toBe(bob.user.displayName);

    // Written offline: queued, waiting, not failed.
    const queued = await reloaded.sendText(conv.id, 'written offline', { wait: false });
    expect(queued.status).toBe('sending');
    await expect(reloaded.connect()).rejects.toMatchObject({ code: 'network_error' });
    expect(reloaded.offline).toBe(true);
    expect((await reloaded.store.getMessage(queued.id))?.status).toBe('sending');
    expect((await reloaded.store.listOutgoingJobs()).map((j) => j.id)).toEqual([queued.id]);
    // Its readers are fixed from the conversation kept on this device (the lookup failed): no one
    // who joins while it waits could read it.
    expect((await reloaded.store.listOutgoingJobs())[0]?.recipients).toContain(bob.user.id);
    // An offline session removes no device (its backup cannot be flushed, it is not checked yet).
    await expect(reloaded.logOut({ removeDevice: true })).rejects.toMatchObject({
      code: 'network_error',
    });
    expect(reloaded.offline).toBe(true);

    // The server answers again: the session is completed, connects, and the queue sends it.
    net.down = false;
    const arrived = bob.next('message', (m) => m.text === 'written offline');
    await reloaded.connect();
    expect(reloaded.offline).toBe(false);
    expect(reloaded.connected).toBe(true);
    expect((await arrived).id).toBe(queued.id);
    await until(
      async () => (await reloaded.store.getMessage(queued.id))?.status === 'sent',
      'sent',
    );
    expect(await reloaded.store.listOutgoingJobs()).toEqual([]);
    reloaded.disconnect();
  });

  it('when the server no longer accepts the session once it answers, then completing the offline session asks for a full login', async () => {
    const factory = new IDBFactory();
    const net = { down: false };
    const alice = browserWithNetwork(factory, net);
    await alice.signUp(account('alice'));
    const tokens = alice.tokens();
    alice.disconnect();
    net.down = true;
    const reloaded = browserWithNetwork(factory, net);
    reloaded.api.setTokens(tokens);
    expect((await reloaded.resume({ offlineAs: alice.user.id }))?.id).toBe(alice.user.id);
    // Meanwhile the session is gone (logged out elsewhere, tokens expired): the server answers 401.
    await alice.logOut();
    reloaded.api.setTokens(undefined);
    net.down = false;
    await expect(reloaded.connect()).rejects.toMatchObject({ status: 401 });
    expect(reloaded.connected).toBe(false);
  });
});
