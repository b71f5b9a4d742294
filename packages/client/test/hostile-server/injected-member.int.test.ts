import { describe, expect, it } from 'vitest';
import type { ChatClient } from '../../src/client/chat-client.js';
import type { StoredMessage } from '../../src/messages/message.schema.js';
import { messageWith } from '../support/stack.js';
import { FAST_RETRY, hostileEnv, uuid } from './hostile-db.js';
import { randomUUID } from 'node:crypto';
import { encodePlaintext } from '../../src/messages/plaintext-codec.js';
import { toBase64 } from '../../src/protocol/bytes.js';
import { decodeBundle } from '../../src/protocol/keys.js';

/**
 * Issue 14: the server's member list only routes. A member written into
 * `chat.conversation_members` behind the members' backs (a compromised server, or its operator)
 * gets nothing: every send fails closed with `unexpected_member` and a visible warning.
 */

const env = hostileEnv();

const person = (tag: string) => env.person(tag, FAST_RETRY);

/** Resolves with the next membership event a client stores. */
function eventOf(c: ChatClient, type: string): Promise<StoredMessage> {
  return c.next(
    'message',
    (m) => m.kind === 'event' && m.event?.type === type,
  ) as Promise<StoredMessage>;
}

/** Alice creates "Plans" with Bob and Carol; both apply her `create`. */
async function groupOfThree() {
  const [alice, bob, carol] = [await person('alice'), await person('bob'), await person('carol')];
  const created = [eventOf(bob, 'created'), eventOf(carol, 'created')];
  const group = await alice.createConversation({
    kind: 'group',
    title: 'Plans',
    memberIds: [bob.user.id, carol.user.id],
  });
  await Promise.all(created);
  return { alice, bob, carol, group };
}

describe('a member injected by the server', () => {
  it("when the server lists Mallory in Alice, Bob and Carol's group, then Alice and Bob's sends fail closed with a warning and Mallory's mailbox stays empty", async () => {
    const { alice, bob, carol, group } = await groupOfThree();
    expect(bob.groups.info(group.id)).toMatchObject({ title: 'Plans', origin: 'member' });
    const hello = messageWith(carol, 'before');
    await bob.sendText(group.id, 'before');
    await hello;

    const mallory = await person('mallory');
    mallory.disconnect();
    await env.db.sql(
      `INSERT INTO chat.conversation_members (conversation_id, user_id, role) VALUES (${uuid(group.id)}, ${uuid(mallory.user.id)}, 'member')`,
    );
    // The members' clients see the server's new list at once (nothing cached helps them).
    for (const c of [alice, bob]) await c.getConversation(group.id, true);

    for (const sender of [alice, bob]) {
      const warning = sender.next('membershipWarning');
      const failed = sender.next('sendFailed');
      const error = await sender
        .sendText(group.id, `secret from ${sender.user.username}`)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'unexpected_member' });
      expect(await warning).toEqual({ conversationId: group.id, userIds: [mallory.user.id] });
      const report = await failed;
      expect(report.code).toBe('unexpected_member');
      expect(report.message).toMatchObject({
        status: 'failed',
        failure: { code: 'unexpected_member' },
      });
    }

    // Nothing was ever addressed to Mallory, and Carol got none of the refused messages either.
    expect(
      await env.db.sql(
        `SELECT count(*) FROM chat.mailbox WHERE recipient_user = ${uuid(mallory.user.id)}`,
      ),
    ).toBe('0');
    const carolHistory = await carol.history(group.id);
    expect(carolHistory.filter((m) => m.text?.startsWith('secret'))).toEqual([]);

    // Mallory's own client: the mailbox drains empty and her history of the group is empty.
    const drained = mallory.next('mailboxEmpty');
    await mallory.connect();
    await drained;
    expect(await mallory.history(group.id)).toEqual([]);
    expect(mallory.groups.info(group.id).origin).toBe('pending');
    const pending = await mallory
      .sendText(group.id, 'let me in', { wait: true })
      .catch((e: unknown) => e);
    expect(pending).toMatchObject({ code: 'group_state_pending' });
    for (const c of [alice, bob, carol, mallory]) await c.logOut();
  });

  it('when Mallory, listed by the server, writes into the group, then no member shows her message', async () => {
    const { alice, bob, carol, group } = await groupOfThree();
    const mallory = await person('mallory');
    await env.db.sql(
      `INSERT INTO chat.conversation_members (conversation_id, user_id, role) VALUES (${uuid(group.id)}, ${uuid(mallory.user.id)}, 'member')`,
    );
    // Mallory encrypts a real message for Alice's device (a genuine session: the server cannot
    // tell it apart), and the server delivers it to Alice in the group.
    const bundle = await mallory.api.chat.keyBundle(alice.user.id);
    const device = bundle.devices[0];
    if (!device) throw new Error('no device');
    await mallory.protocol.processBundle(alice.user.id, decodeBundle(bundle.identityKey, device));
    const plain = {
      v: 1 as const,
      kind: 'text' as const,
      id: randomUUID(),
      conversationId: group.id,
      sentAt: Date.now(),
      text: 'from mallory',
    };
    const c = await mallory.protocol.encrypt(
      alice.user.id,
      device.deviceId,
      encodePlaintext(plain),
    );
    const refused = alice.next('decryptFailed');
    await alice.receive({
      messageId: randomUUID(),
      conversationId: group.id,
      senderUserId: mallory.user.id,
      senderDeviceId: Number(await mallory.deviceId()),
      type: c.type,
      body: toBase64(c.body),
      serverTimestamp: new Date().toISOString(),
    });
    expect(await refused).toMatchObject({ senderUserId: mallory.user.id, code: 'not_member' });
    expect((await alice.history(group.id)).filter((m) => m.text === 'from mallory')).toEqual([]);
    for (const p of [alice, bob, carol, mallory]) await p.logOut();
  });

  it('when the server asks for devices of a user outside the view (stale_devices), then the send fails closed too', async () => {
    const { alice, bob, carol, group } = await groupOfThree();
    const mallory = await person('mallory');
    mallory.disconnect();
    // Alice's cached list is the old one: her first attempt goes to Bob and Carol, and the server
    // answers that Mallory's devices are missing.
    await alice.getConversation(group.id);
    await env.db.sql(
      `INSERT INTO chat.conversation_members (conversation_id, user_id, role) VALUES (${uuid(group.id)}, ${uuid(mallory.user.id)}, 'member')`,
    );
    const error = await alice.sendText(group.id, 'no strangers').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'unexpected_member',
      details: { userIds: [mallory.user.id] },
    });
    expect(
      await env.db.sql(
        `SELECT count(*) FROM chat.mailbox WHERE recipient_user = ${uuid(mallory.user.id)}`,
      ),
    ).toBe('0');
    for (const c of [alice, bob, carol, mallory]) await c.logOut();
  });

  it('when a plain member renames the group or adds someone, then the other clients refuse it and keep their view', async () => {
    const { alice, bob, carol, group } = await groupOfThree();
    const mallory = await person('mallory');
    const refusedA = alice.next('groupChangeRefused', (r) => r.op === 'rename');
    const refusedB = bob.next('groupChangeRefused', (r) => r.op === 'rename');
    await carol.groups.sendRawControl(group.id, { op: 'rename', title: 'Carol rules' });
    expect(await refusedA).toMatchObject({
      conversationId: group.id,
      fromUserId: carol.user.id,
      reason: 'not_allowed',
    });
    await refusedB;

    // Carol gets Mallory onto the server's list through the API? Only owners and admins may; a
    // control message alone does not move anyone's view either.
    const refusedAdd = alice.next('groupChangeRefused', (r) => r.op === 'add');
    await carol.groups.sendRawControl(group.id, {
      op: 'add',
      userIds: [mallory.user.id],
      state: {
        members: [
          { userId: carol.user.id, role: 'owner' },
          { userId: mallory.user.id, role: 'member' },
          { userId: alice.user.id, role: 'member' },
        ],
        title: null,
      },
    });
    expect(await refusedAdd).toMatchObject({ fromUserId: carol.user.id, reason: 'not_allowed' });

    // A forged `create` for the existing group, with another member set, is ignored as well.
    const refusedCreate = bob.next('groupChangeRefused', (r) => r.op === 'create');
    await carol.groups.sendRawControl(group.id, {
      op: 'create',
      state: {
        members: [
          { userId: carol.user.id, role: 'owner' },
          { userId: bob.user.id, role: 'member' },
          { userId: mallory.user.id, role: 'member' },
        ],
        title: 'Mine',
      },
    });
    expect(await refusedCreate).toMatchObject({ reason: 'group_exists' });

    for (const c of [alice, bob]) {
      expect(c.groups.info(group.id)).toMatchObject({ title: 'Plans' });
      expect(
        c.groups
          .info(group.id)
          .members.map((m) => m.userId)
          .sort(),
      ).toEqual([alice.user.id, bob.user.id, carol.user.id].sort());
      expect(
        (await c.history(group.id)).filter((m) => m.kind === 'event').map((m) => m.event?.type),
      ).toEqual(['created']);
    }
    for (const c of [alice, bob, carol, mallory]) await c.logOut();
  });

  it('when the owner adds, promotes, renames and removes through the SDK, then every view follows and the chat shows the events', async () => {
    const { alice, bob, carol, group } = await groupOfThree();
    const dan = await person('dan');
    const danJoined = eventOf(dan, 'added');
    const bobSaw = eventOf(bob, 'added');
    await alice.groups.add(group.id, [dan.user.id]);
    expect((await danJoined).event).toMatchObject({
      actorUserId: alice.user.id,
      userIds: [dan.user.id],
    });
    await bobSaw;
    expect(dan.groups.info(group.id)).toMatchObject({ title: 'Plans', origin: 'member' });
    const fromDan = messageWith(carol, 'hi, I am Dan');
    await dan.sendText(group.id, 'hi, I am Dan');
    await fromDan;

    const promoted = eventOf(dan, 'role');
    await alice.groups.setRole(group.id, bob.user.id, 'admin');
    await promoted;
    // Bob (admin now in every view) renames; Carol's client accepts it.
    const renamed = eventOf(carol, 'renamed');
    await bob.groups.rename(group.id, 'New plans');
    expect((await renamed).event).toMatchObject({ actorUserId: bob.user.id, title: 'New plans' });
    expect(carol.groups.info(group.id).title).toBe('New plans');

    // Bob removes Carol; Carol's client learns it, and the others stop addressing her.
    const carolRemoved = eventOf(carol, 'removed');
    const danSawRemove = eventOf(dan, 'removed');
    await bob.groups.remove(group.id, carol.user.id);
    await carolRemoved;
    await danSawRemove;
    const carolGot: string[] = [];
    carol.on('message', (m) => {
      if (m.text) carolGot.push(m.text);
    });
    const toDan = messageWith(dan, 'without carol');
    await alice.sendText(group.id, 'without carol');
    await toDan;
    expect(carolGot).toEqual([]);

    // Dan leaves.
    const left = eventOf(alice, 'left');
    await dan.groups.leave(group.id);
    expect((await left).event).toMatchObject({ actorUserId: dan.user.id });
    expect(
      alice.groups
        .info(group.id)
        .members.map((m) => m.userId)
        .sort(),
    ).toEqual([alice.user.id, bob.user.id].sort());
    const types = (await alice.history(group.id))
      .filter((m) => m.kind === 'event')
      .map((m) => m.event?.type);
    expect(types).toEqual(['created', 'added', 'role', 'renamed', 'removed', 'left']);
    for (const c of [alice, bob, carol, dan]) await c.logOut();
  });
});
