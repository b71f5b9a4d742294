import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { PlaintextMessage } from '../../src/messages/message.schema.js';
import { randomId, utf8 } from '../../src/protocol/bytes.js';
import { createTestDevice } from '../../src/testing/test-device.js';
import { account, messageWith } from '../support/stack.js';
import { hostileEnv, injectEnvelope, realBundle } from './hostile-db.js';

const env = hostileEnv();

async function rowsFor(userId: string): Promise<number> {
  const [r] = await env.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`,
    [userId],
  );
  return r?.n ?? -1;
}

// Review (issue 14): the server must not add a reader. Here it slips Carol into Alice and Bob's
// direct conversation (the member-count trigger disabled, as a database owner can).
describe('hostile server: a third member in a direct conversation', () => {
  it("when the server lists Carol as a member of Alice and Bob's direct chat, then nothing Alice sends there reaches Carol", async () => {
    const alice = env.stack.client('alice laptop');
    const bob = env.stack.client('bob phone');
    const carol = env.stack.client('carol phone');
    await alice.signUp(account('alice'));
    await bob.signUp(account('bob'));
    await carol.signUp(account('carol'));
    const conv = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    const first = messageWith(bob, 'just us');
    await alice.sendText(conv.id, 'just us');
    await first;

    await env.db.query(
      `ALTER TABLE chat.conversation_members DISABLE TRIGGER conversation_members_shape`,
    );
    try {
      await env.db.query(
        `INSERT INTO chat.conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'member')`,
        [conv.id, carol.user.id],
      );
    } finally {
      await env.db.query(
        `ALTER TABLE chat.conversation_members ENABLE TRIGGER conversation_members_shape`,
      );
    }
    const before = await rowsFor(carol.user.id);
    // The app reloads its chat list (as the web client does on start), then Alice writes.
    await alice.listConversations();
    // What leaves Alice's device is what a hostile server could hand to Carol (chat-service's own
    // check refuses such a send with `conflict`, but a modified server would not).
    const addressed: string[] = [];
    const sent = await alice
      .sendTextWithEnvelopes(conv.id, 'secret for Bob', (envelopes) => {
        addressed.push(...envelopes.map((e) => e.userId));
        return envelopes;
      })
      .catch((e: unknown) => e);
    expect(addressed).not.toContain(carol.user.id);
    expect(sent).toMatchObject({ code: 'unexpected_member' });
    expect(await rowsFor(carol.user.id)).toBe(before);
  });

  it("when the server turns Alice and Bob's direct chat into a group with Carol, then Alice encrypts nothing for Carol", async () => {
    const alice = env.stack.client('alice laptop');
    const bob = env.stack.client('bob phone');
    const carol = env.stack.client('carol phone');
    await alice.signUp(account('alice'));
    await bob.signUp(account('bob'));
    await carol.signUp(account('carol'));
    const conv = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    const first = messageWith(bob, 'just us');
    await alice.sendText(conv.id, 'just us');
    await first;

    await env.db.query(
      `UPDATE chat.conversations SET kind = 'group', direct_key = NULL WHERE id = $1`,
      [conv.id],
    );
    await env.db.query(
      `INSERT INTO chat.conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'member')`,
      [conv.id, carol.user.id],
    );
    await alice.listConversations();
    const addressed: string[] = [];
    const sent = await alice
      .sendTextWithEnvelopes(conv.id, 'still for Bob only', (envelopes) => {
        addressed.push(...envelopes.map((e) => e.userId));
        return envelopes;
      })
      .catch((e: unknown) => e);
    expect(addressed).not.toContain(carol.user.id);
    expect(sent).toMatchObject({ code: 'unexpected_member' });
  });

  it("when the server delivers a stranger's message into Alice and Bob's direct chat, then Alice does not show it", async () => {
    const alice = env.stack.client('alice laptop');
    const bob = env.stack.client('bob phone');
    await alice.signUp(account('alice'));
    await bob.signUp(account('bob'));
    const conv = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    const first = messageWith(bob, 'just us');
    await alice.sendText(conv.id, 'just us');
    await first;

    // Mallory holds her own key and knows the conversation id (the server told her).
    const mallory = await createTestDevice(randomUUID(), 1);
    const myDevice = (await alice.deviceId()) as number;
    await mallory.protocol.processBundle(alice.user.id, await realBundle(env.db, alice, myDevice));
    const text = 'Bob here, new number';
    const plain: PlaintextMessage = {
      v: 1,
      kind: 'text',
      id: randomId(),
      conversationId: conv.id,
      sentAt: Date.now(),
      text,
    };
    const c = await mallory.protocol.encrypt(alice.user.id, myDevice, utf8(JSON.stringify(plain)));
    const refused = alice.next('decryptFailed', (e) => e.senderUserId === mallory.userId);
    await injectEnvelope(env.db, {
      recipientUser: alice.user.id,
      recipientDevice: myDevice,
      senderUser: mallory.userId,
      senderDevice: 1,
      conversationId: conv.id,
      type: c.type,
      body: c.body,
    });
    await alice.syncMailbox();
    expect((await refused).code).toBe('not_member');
    expect((await alice.history(conv.id)).some((m) => m.text === text)).toBe(false);
  });
});
