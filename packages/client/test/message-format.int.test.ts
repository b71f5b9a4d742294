import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import { META_KEPT } from '../src/client/kept-messages.js';
import type { StoredMessage } from '../src/messages/message.schema.js';
import { randomId } from '../src/protocol/bytes.js';
import { createIndexedDbStore } from '../src/storage/indexeddb-backend.js';
import { sendRawPlaintext } from '../src/testing/raw-plaintext.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * Issue 16, item 1 with the real stack: a client that meets a kind it does not know keeps and
 * shows it (and keeps it across a reload); an upgraded client reads kept messages again.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A browser-like client: its store lives in an IndexedDB profile that survives the client. */
function browser(profile: IDBFactory, name: string): ChatClient {
  return stack.client(name, {
    openStore: (userId) => createIndexedDbStore(`cipherchat-${userId}`, profile),
  });
}

async function pair() {
  const profile = new IDBFactory();
  const alice = stack.client('alice laptop');
  const aliceInput = account('alice');
  await alice.signUp(aliceInput);
  const bob = browser(profile, 'bob browser');
  const bobInput = account('bob');
  await bob.signUp(bobInput);
  const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
  await bob.acceptRequest(direct.id);
  return { alice, bob, bobInput, profile, direct };
}

describe('a kind this version does not know', () => {
  it('when a newer client sends a poll, then the other client keeps it as unsupported with its fallback, drops nothing, and still has it after a reload', async () => {
    const { alice, bob, bobInput, profile, direct } = await pair();
    const failures: unknown[] = [];
    bob.on('decryptFailed', (f) => failures.push(f));
    const kept = bob.next('message', (m) => m.kind === 'unsupported') as Promise<StoredMessage>;
    const poll = await sendRawPlaintext(alice, direct.id, {
      kind: 'poll',
      fallback: 'Poll: lunch? Pizza / Sushi',
      poll: { question: 'lunch?', options: ['Pizza', 'Sushi'] },
    });
    const m = await kept;
    expect(m).toMatchObject({
      id: poll.id,
      conversationId: direct.id,
      senderUserId: alice.user.id,
      direction: 'in',
      kind: 'unsupported',
      unsupported: { kind: 'poll', fallback: 'Poll: lunch? Pizza / Sushi' },
      status: 'received',
    });
    expect(JSON.parse(m.raw ?? '{}')).toMatchObject({ poll: { options: ['Pizza', 'Sushi'] } });
    expect(await bob.store.getMeta(META_KEPT)).toEqual([poll.id]);
    // The conversation goes on: the next text arrives after it.
    const next = messageWith(bob, 'and a plain text');
    await alice.sendText(direct.id, 'and a plain text');
    await next;

    bob.disconnect();
    const reloaded = browser(profile, 'bob browser');
    await reloaded.logIn(bobInput);
    const history = await reloaded.history(direct.id);
    expect(history.map((h) => h.kind)).toEqual(['unsupported', 'text']);
    expect(history[0]).toMatchObject({
      id: poll.id,
      unsupported: { kind: 'poll', fallback: 'Poll: lunch? Pizza / Sushi' },
    });
    // Still not understood: it stays in the index for a later version.
    expect(await reloaded.store.getMeta(META_KEPT)).toEqual([poll.id]);
    expect(failures).toEqual([]);
    reloaded.disconnect();
    alice.disconnect();
  });
});

describe('the upgrade path', () => {
  it('when a kept message is of a kind this version now knows, then the next login reads it again as a normal message; what is still unknown stays kept', async () => {
    const { alice, bob, bobInput, profile, direct } = await pair();
    // What an older version kept: a v2 text it did not know how to read, a poll nobody knows
    // yet, and a typing message (a control kind: its placeholder goes once handled).
    const base = {
      conversationId: direct.id,
      senderUserId: alice.user.id,
      senderDeviceId: 1,
      direction: 'in' as const,
      kind: 'unsupported' as const,
      serverTimestamp: new Date().toISOString(),
      serverMessageId: randomId(),
    };
    const sentAt = Date.now() - 60_000;
    const text = {
      v: 2,
      kind: 'text',
      id: randomId(),
      conversationId: direct.id,
      sentAt,
      text: 'read me now',
      mentions: [bob.user.id],
    };
    const poll = {
      v: 3,
      kind: 'poll',
      id: randomId(),
      conversationId: direct.id,
      sentAt: sentAt + 1,
      poll: { question: 'q?' },
    };
    const typing = {
      v: 2,
      kind: 'typing',
      id: randomId(),
      conversationId: direct.id,
      sentAt: sentAt + 2,
      typing: { on: true },
    };
    for (const [p, status] of [
      [text, 'read'],
      [poll, 'received'],
      [typing, 'received'],
    ] as const) {
      await bob.store.putMessage({
        ...base,
        id: p.id,
        sentAt: p.sentAt,
        unsupported: { kind: p.kind },
        raw: JSON.stringify(p),
        status,
        serverMessageId: randomId(),
        // What the device gathered on it meanwhile stays through the re-read.
        ...(p === text ? { reactions: { [alice.user.id]: { emoji: '👍', at: sentAt + 5 } } } : {}),
      });
    }
    await bob.store.setMeta(META_KEPT, [text.id, poll.id, typing.id]);
    const bobId = bob.user.id;
    await bob.logOut();

    const upgraded = browser(profile, 'bob browser');
    const emitted: StoredMessage[] = [];
    upgraded.on('message', (m) => emitted.push(m));
    await upgraded.logIn(bobInput);
    const history = await upgraded.history(direct.id);
    expect(history.map((h) => [h.id, h.kind])).toEqual([
      [text.id, 'text'],
      [poll.id, 'unsupported'],
    ]);
    const now = history[0]!;
    expect(now).toMatchObject({
      text: 'read me now',
      mentions: [bobId],
      senderUserId: alice.user.id,
      direction: 'in',
      status: 'read',
      reactions: { [alice.user.id]: { emoji: '👍' } },
    });
    expect(now.raw).toBeUndefined();
    expect(now.unsupported).toBeUndefined();
    expect(emitted.map((m) => m.id)).toEqual([text.id]);
    expect(await upgraded.store.getMeta(META_KEPT)).toEqual([poll.id]);
    upgraded.disconnect();
    alice.disconnect();
  });
});
