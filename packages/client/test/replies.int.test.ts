import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import type { StoredMessage } from '../src/messages/message.schema.js';
import { sendRawPlaintext } from '../src/testing/raw-plaintext.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/** Issue 16, items 2 and 5 with the real stack: replies quote their original, mentions travel end to end. */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function signUp(tag: string): Promise<ChatClient> {
  const client = stack.client(tag);
  await client.signUp(account(tag));
  return client;
}

describe('replies and mentions', () => {
  it('when Bob replies to Alice in a group and mentions her, then every member stores the quote (author, excerpt) and the mention', async () => {
    const [alice, bob, carol] = [await signUp('alice'), await signUp('bob'), await signUp('carol')];
    const group = await alice.createConversation({
      kind: 'group',
      title: 'lunch',
      memberIds: [bob.user.id, carol.user.id],
    });
    const long = `Where do we eat today? ${'really '.repeat(40)}hungry`;
    const gotBob = messageWith(bob, long);
    const gotCarol = messageWith(carol, long);
    const original = await alice.sendText(group.id, long);
    await Promise.all([gotBob, gotCarol]);

    const replyText = '@alice the usual place';
    const toAlice = messageWith(alice, replyText);
    const toCarol = messageWith(carol, replyText);
    // Queued (wait: false): the quote and the mentions go through the persisted outgoing queue.
    const queued = await bob.sendText(group.id, replyText, {
      wait: false,
      replyTo: original.id,
      mentions: [alice.user.id, alice.user.id],
    });
    expect(queued.status).toBe('sending');
    const quote = {
      id: original.id,
      authorUserId: alice.user.id,
      excerpt: `${long.slice(0, 199)}…`,
    };
    expect(queued).toMatchObject({ replyTo: quote, mentions: [alice.user.id] });
    for (const m of await Promise.all([toAlice, toCarol])) {
      expect(m).toMatchObject({
        id: queued.id,
        kind: 'text',
        senderUserId: bob.user.id,
        replyTo: quote,
        mentions: [alice.user.id],
      });
      expect(m.replyTo?.excerpt.length).toBe(200);
    }
    // Carol's version understood all of it: nothing is kept raw for a later re-read.
    const stored: StoredMessage | undefined = await carol.store.getMessage(queued.id);
    expect(stored?.raw).toBeUndefined();
    for (const c of [alice, bob, carol]) c.disconnect();
  });

  it('when a reply misquotes a message its reader has, then the reader stores the real author and excerpt', async () => {
    const [alice, bob] = [await signUp('ada'), await signUp('bo')];
    const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    const got = messageWith(bob, 'I never said that');
    const original = await alice.sendText(direct.id, 'I never said that');
    await got;
    const fake = bob.next('message', (m) => m.text === 'quoting you') as Promise<StoredMessage>;
    await sendRawPlaintext(alice, direct.id, {
      v: 2,
      kind: 'text',
      text: 'quoting you',
      replyTo: { id: original.id, authorUserId: bob.user.id, excerpt: 'Bob loves spam' },
    });
    expect((await fake).replyTo).toEqual({
      id: original.id,
      authorUserId: alice.user.id,
      excerpt: 'I never said that',
    });
    for (const c of [alice, bob]) c.disconnect();
  });

  it('when the quoted message is not in my history, then the reply is refused and nothing is queued', async () => {
    const [alice, bob] = [await signUp('ann'), await signUp('ben')];
    const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    await expect(alice.sendText(direct.id, 'hm', { replyTo: crypto.randomUUID() })).rejects.toThrow(
      /not a text or attachment of this conversation/,
    );
    expect(await alice.history(direct.id)).toEqual([]);
    expect(await alice.store.listOutgoingJobs()).toEqual([]);
    for (const c of [alice, bob]) c.disconnect();
  });

  it('when a conversation is muted on one device, then the list is kept in its local store only and unmute removes it', async () => {
    const alice = await signUp('amy');
    const bob = await signUp('bea');
    const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    expect(await alice.mutedConversations()).toEqual([]);
    expect(await alice.setMuted(direct.id, true)).toEqual([direct.id]);
    expect(await alice.mutedConversations()).toEqual([direct.id]);
    expect(await alice.store.getMeta('mutedConversations')).toEqual([direct.id]);
    expect(await alice.setMuted(direct.id, false)).toEqual([]);
    expect(await alice.mutedConversations()).toEqual([]);
    for (const c of [alice, bob]) c.disconnect();
  });
});
