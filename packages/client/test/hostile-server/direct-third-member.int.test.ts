import { describe, expect, it } from 'vitest';
import { messageWith } from '../support/stack.js';
import { FAST_RETRY, hostileEnv, uuid } from './hostile-db.js';

/**
 * Issue 14: a direct conversation has exactly two members, checked by the client too. A third
 * member written into the database past the server's checks (its trigger switched off, as a
 * compromised server could) makes the client refuse to send: nothing reaches the third user.
 */

const env = hostileEnv();

const person = (tag: string) => env.person(tag, FAST_RETRY);

/** Adds a member to a conversation with triggers off (`session_replication_role = replica`). */
async function inject(conversationId: string, userId: string): Promise<void> {
  await env.db.sql(
    `SET session_replication_role = replica; INSERT INTO chat.conversation_members (conversation_id, user_id, role) VALUES (${uuid(conversationId)}, ${uuid(userId)}, 'member')`,
  );
}

describe('a third member in a direct conversation', () => {
  it("when the server lists Mallory in Alice and Bob's direct chat, then neither client sends, and Mallory gets nothing", async () => {
    const [alice, bob, mallory] = [
      await person('alice'),
      await person('bob'),
      await person('mallory'),
    ];
    mallory.disconnect();
    const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    const hi = messageWith(bob, 'hi bob');
    await alice.sendText(direct.id, 'hi bob');
    await hi;

    // Bob accepts Alice's request (else his client sends no receipt or typing there at all), and
    // his client sees the chat (its list) before the server turns hostile: it pins Alice.
    await bob.acceptRequest(direct.id);
    await bob.listConversations();
    await inject(direct.id, mallory.user.id);
    expect(
      await env.db.sql(
        `SELECT count(*) FROM chat.conversation_members WHERE conversation_id = ${uuid(direct.id)}`,
      ),
    ).toBe('3');
    // Mallory online: receipts and typing (sent only when every listed member is online) are
    // then tried too and meet the same check.
    await mallory.connect();
    for (const c of [alice, bob]) {
      await c.getConversation(direct.id, true);
      const warning = c.next('membershipWarning');
      const error = await c
        .sendText(direct.id, `just us (${c.user.username})`)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'unexpected_member' });
      expect(await warning).toEqual({ conversationId: direct.id, userIds: [mallory.user.id] });
      // Receipts and typing go through the same check.
      await expect(c.setTyping(direct.id, true)).rejects.toMatchObject({
        code: 'unexpected_member',
      });
    }
    expect(
      await env.db.sql(
        `SELECT count(*) FROM chat.mailbox WHERE recipient_user = ${uuid(mallory.user.id)}`,
      ),
    ).toBe('0');
    for (const c of [alice, bob, mallory]) await c.logOut();
  });

  it('when a direct chat is first seen with three members, then the client refuses it from the start', async () => {
    const [carol, dan, mallory] = [
      await person('carol'),
      await person('dan'),
      await person('mallory'),
    ];
    mallory.disconnect();
    const direct = await carol.createConversation({ kind: 'direct', memberIds: [dan.user.id] });
    await inject(direct.id, mallory.user.id);
    const error = await dan.sendText(direct.id, 'first words').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unexpected_member' });
    expect((error as { details?: { userIds?: string[] } }).details?.userIds?.sort()).toEqual(
      [carol.user.id, mallory.user.id].sort(),
    );
    expect(
      await env.db.sql(
        `SELECT count(*) FROM chat.mailbox WHERE recipient_user = ${uuid(mallory.user.id)}`,
      ),
    ).toBe('0');
    for (const c of [carol, dan, mallory]) await c.logOut();
  });

  it('when the server swaps the other member of a direct chat, then the client keeps the one it first saw and refuses', async () => {
    const [alice, bob, mallory] = [
      await person('alice'),
      await person('bob'),
      await person('mallory'),
    ];
    mallory.disconnect();
    const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    const hi = messageWith(bob, 'pinned');
    await alice.sendText(direct.id, 'pinned');
    await hi;
    await env.db.sql(
      `SET session_replication_role = replica; UPDATE chat.conversation_members SET user_id = ${uuid(mallory.user.id)} WHERE conversation_id = ${uuid(direct.id)} AND user_id = ${uuid(bob.user.id)}`,
    );
    await alice.getConversation(direct.id, true);
    const error = await alice.sendText(direct.id, 'to bob only').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'unexpected_member',
      details: { userIds: [mallory.user.id] },
    });
    expect(
      await env.db.sql(
        `SELECT count(*) FROM chat.mailbox WHERE recipient_user = ${uuid(mallory.user.id)}`,
      ),
    ).toBe('0');
    for (const c of [alice, bob, mallory]) await c.logOut();
  });
});
