import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TcpProxy } from '@cipherchat/service-kit/testing';
import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import type { StoredMessage } from '../src/messages/message.schema.js';
import { createFileStore } from '../src/node/file-backend.js';
import { createIndexedDbStore } from '../src/storage/indexeddb-backend.js';
import type { ProtocolStore } from '../src/storage/protocol-store.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * The persisted outgoing queue: a send is stored with its job at once, survives the process,
 * is retried with backoff while chat-service cannot be reached, and fails for good, with a
 * reason, on a permanent error.
 */

let stack: Stack;
const dirs: string[] = [];
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Collects every message a client stores whose text is `text`. */
function collect(c: ChatClient, text: string): StoredMessage[] {
  const got: StoredMessage[] = [];
  c.on('message', (m) => {
    if (m.text === text) got.push(m);
  });
  return got;
}

type OpenStore = (userId: string, ctx: { exportKey?: string | undefined }) => Promise<ProtocolStore>;

/** The two persistent stores: the CLI's sealed file, and IndexedDB as a browser profile keeps it. */
const persistentStores: Array<[string, () => Promise<OpenStore>]> = [
  [
    'file',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cc-queue-'));
      dirs.push(dir);
      return (_userId, ctx) => createFileStore(join(dir, 'alice.state'), ctx.exportKey);
    },
  ],
  [
    'IndexedDB',
    async () => {
      const profile = new IDBFactory();
      return (userId) => createIndexedDbStore(`cipherchat-${userId}`, profile);
    },
  ],
];

describe('outgoing queue', () => {
  it.each(persistentStores)('when the process dies with a message queued, then a new client over the same %s store sends it after login, exactly once', async (_kind, makeOpenStore) => {
    const openStore = await makeOpenStore();
    const a = account('alice');
    // A retry far in the future: the "dead" client never tries again by itself.
    const alice = stack.client('alice', { openStore, sendRetry: { baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 } });
    const bob = stack.client('bob');
    await alice.signUp(a);
    await bob.signUp(account('bob'));
    const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    const received = collect(bob, 'written before the crash');

    // Offline: the send returns its local id at once, stored as "sending" with its job.
    alice.disconnect();
    const queued = await alice.sendText(direct.id, 'written before the crash', { wait: false });
    expect(queued.status).toBe('sending');
    expect((await alice.store.getMessage(queued.id))?.status).toBe('sending');
    expect(await alice.store.listOutgoingJobs()).toMatchObject([{ id: queued.id, attempts: 0 }]);
    // The process dies here: no log-out, nothing flushed but what the store already holds.

    const alice2 = stack.client('alice', { openStore });
    const sent = alice2.next('messageUpdated', (m) => m.id === queued.id && m.status === 'sent');
    const arrived = messageWith(bob, 'written before the crash');
    expect((await alice2.logIn(a)).identity).toBe('local');
    expect((await sent).serverMessageId).toBeDefined();
    expect((await arrived).id).toBe(queued.id);

    // A later message arrives after it: by then a duplicate would have arrived too.
    const marker = messageWith(bob, 'after the restart');
    await alice2.sendText(direct.id, 'after the restart');
    await marker;
    expect(received.map((m) => m.id)).toEqual([queued.id]);
    expect(await alice2.store.listOutgoingJobs()).toEqual([]);
    const history = await alice2.history(direct.id);
    expect(history.filter((m) => m.id === queued.id).map((m) => m.status)).toEqual(['sent']);
    await alice2.logOut();
    await bob.logOut();
  });

  it('when chat-service cannot be reached, then the send waits without spending its retry budget and is delivered once it is back', async () => {
    const proxy = new TcpProxy(Number(new URL(stack.chatUrl).port));
    const proxyPort = await proxy.start();
    const alice = stack.client('alice', {
      socketUrl: `http://127.0.0.1:${proxyPort}`,
      // A budget the outage would spend many times over if offline time counted.
      sendRetry: { baseDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 },
    });
    const bob = stack.client('bob');
    try {
      await alice.signUp(account('alice'));
      await bob.signUp(account('bob'));
      const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
      const first = messageWith(bob, 'warm-up');
      await alice.sendText(direct.id, 'warm-up');
      await first;

      const offline = alice.next('connection', (c) => !c.online);
      await proxy.cut();
      await offline;
      const spent: string[] = [];
      alice.on('sendDeferred', (d) => spent.push(d.code));
      alice.on('sendFailed', (f) => spent.push(f.code));
      const queued = await alice.sendText(direct.id, 'through the outage', { wait: false });
      // Long enough for the whole budget (3 attempts, waits of at most 20 ms) many times over.
      await new Promise((r) => setTimeout(r, 1000));
      expect(spent).toEqual([]);
      expect((await alice.store.getMessage(queued.id))?.status).toBe('sending');
      expect(await alice.store.listOutgoingJobs()).toMatchObject([{ id: queued.id, attempts: 0 }]);

      const sent = alice.next('messageUpdated', (m) => m.id === queued.id && m.status === 'sent');
      const arrived = messageWith(bob, 'through the outage');
      await proxy.restore();
      await sent;
      expect((await arrived).id).toBe(queued.id);
      expect(await alice.store.listOutgoingJobs()).toEqual([]);
    } finally {
      await alice.logOut();
      await bob.logOut();
      await proxy.stop();
    }
  });

  it('when the server refuses the message for good, then it is failed with the reason at once, and Retry re-queues the same id', async () => {
    const alice = stack.client('alice');
    const bob = stack.client('bob');
    const carol = stack.client('carol');
    await alice.signUp(account('alice'));
    await bob.signUp(account('bob'));
    await carol.signUp(account('carol'));
    const group = await bob.createConversation({ kind: 'group', memberIds: [alice.user.id, carol.user.id], title: 'g' });
    const hello = messageWith(bob, 'hello group');
    await alice.sendText(group.id, 'hello group');
    await hello;

    // Bob removes Alice: her next send is refused, by the socket (`not_member`) while her cached
    // member list is old, or by the conversation lookup (`not_found`) once the cache was dropped.
    await bob.api.request('chat', 'DELETE', `/conversations/${group.id}/members/${alice.user.id}`);
    const failed = alice.next('sendFailed');
    const error = await alice.sendText(group.id, 'am I still here?').catch((e: unknown) => e);
    const report = await failed;
    expect(['not_member', 'not_found']).toContain(report.code);
    expect(error).toMatchObject({ code: report.code });
    expect(report.message).toMatchObject({ status: 'failed', failure: { code: report.code } });
    const stored = await alice.store.getMessage(report.message.id);
    expect(stored).toMatchObject({ status: 'failed', failure: { code: report.code } });
    expect(await alice.store.listOutgoingJobs()).toEqual([]);

    // Retry keeps the id; it is refused again, and the message is failed again (no copy).
    // (Which of the two codes depends on whether `conversation:updated` reached Alice yet.)
    const again = await alice.retryMessage(report.message.id).catch((e: unknown) => e);
    expect(['not_member', 'not_found']).toContain((again as { code?: string }).code);
    const history = await alice.history(group.id);
    expect(history.filter((m) => m.text === 'am I still here?').map((m) => [m.id, m.status])).toEqual([
      [report.message.id, 'failed'],
    ]);
    for (const c of [alice, bob, carol]) await c.logOut();
  });

  it('when someone joins a group while a message waits offline, then it is not encrypted for them: it fails as membership_changed until the sender retries', async () => {
    const alice = stack.client('alice');
    const carol = stack.client('carol');
    const mallory = stack.client('mallory');
    await alice.signUp(account('alice'));
    await carol.signUp(account('carol'));
    await mallory.signUp(account('mallory'));
    const group = await alice.createConversation({ kind: 'group', memberIds: [carol.user.id], title: 'two of us' });
    const hello = messageWith(alice, 'hello');
    await carol.sendText(group.id, 'hello');
    await hello;
    const aliceGot = collect(alice, 'only for alice');
    const malloryGot = collect(mallory, 'only for alice');

    // Carol writes while offline; meanwhile Alice (an admin) adds Mallory.
    carol.disconnect();
    const queued = await carol.sendText(group.id, 'only for alice', { wait: false });
    await alice.groups.add(group.id, [mallory.user.id]);
    const failed = carol.next('sendFailed', (f) => f.message.id === queued.id);
    await carol.connect();
    expect((await failed).code).toBe('membership_changed');
    expect(await carol.store.getMessage(queued.id)).toMatchObject({ status: 'failed', failure: { code: 'membership_changed' } });

    // A later message from Alice reaches Mallory, so by then Carol's would have too.
    const marker = messageWith(mallory, 'welcome');
    await alice.sendText(group.id, 'welcome');
    await marker;
    expect(malloryGot).toEqual([]);
    expect(aliceGot).toEqual([]);

    // Retry is Carol's decision to send it to the group as it is now.
    const toMallory = messageWith(mallory, 'only for alice');
    await carol.retryMessage(queued.id);
    expect((await toMallory).id).toBe(queued.id);
    for (const c of [alice, carol, mallory]) await c.logOut();
  });
});
