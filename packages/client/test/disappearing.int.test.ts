import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import type { StoredMessage } from '../src/messages/message.schema.js';
import { utf8 } from '../src/protocol/bytes.js';
import { ApiError } from '../src/transport/api-error.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * Disappearing messages against the real services: the timer is end-to-end state (a direct
 * chat's `timer` message, a group's `timer` op checked against roles), messages vanish from every
 * device's store after it (from send for mine, from read for received ones), and the server blob
 * of an expired attachment is deleted.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** One clock for every client of a test, moved forward by hand. */
function clock() {
  const c = { offsetMs: 0, now: () => Date.now() + c.offsetMs };
  return c;
}

async function signUp(tag: string, now: () => number, deviceName = tag) {
  const input = account(tag);
  const client = stack.client(deviceName, { now, disappearingSweepMs: 50 });
  await client.signUp(input);
  return { client, input };
}

/** Resolves with the next `event` history entry of type `timer` a client stores. */
function timerEvent(c: ChatClient): Promise<StoredMessage> {
  return c.next(
    'message',
    (m) => m.kind === 'event' && m.event?.type === 'timer',
  ) as Promise<StoredMessage>;
}

/** Waits until every listed message id is gone from a client's store. */
function expired(c: ChatClient, ids: string[]): Promise<void> {
  const left = new Set(ids);
  return new Promise((resolve) => {
    const off = c.on('messagesExpired', (e) => {
      for (const id of e.messageIds) left.delete(id);
      if (left.size === 0) {
        off();
        resolve();
      }
    });
  });
}

describe('disappearing messages', () => {
  it('when Alice sets 5 minutes in a direct chat, then what she sends and Bob reads is gone from every device and the blob from the server after 5 minutes', async () => {
    const time = clock();
    const alice = await signUp('alice', time.now);
    const bob = await signUp('bob', time.now, 'bob laptop');
    const bob2 = stack.client('bob phone', { now: time.now, disappearingSweepMs: 50 });
    await bob2.logIn(bob.input);
    const direct = await alice.client.createConversation({
      kind: 'direct',
      memberIds: [bob.client.user.id],
    });
    await bob.client.acceptRequest(direct.id);
    const hello = messageWith(bob2, 'before the timer');
    await alice.client.sendText(direct.id, 'before the timer');
    await hello;

    // Both sides (and Bob's phone) learn the timer end to end and show the announcement.
    const seen = [timerEvent(bob.client), timerEvent(bob2)];
    await alice.client.setDisappearingTimer(direct.id, 300);
    const [onBob, onPhone] = await Promise.all(seen);
    expect(onBob?.event).toMatchObject({
      type: 'timer',
      actorUserId: alice.client.user.id,
      timerS: 300,
    });
    expect(onPhone?.event?.timerS).toBe(300);
    expect(alice.client.disappearingTimer(direct.id)).toBe(300);
    expect(bob.client.disappearingTimer(direct.id)).toBe(300);
    expect(bob2.disappearingTimer(direct.id)).toBe(300);
    expect(
      (await alice.client.history(direct.id)).filter((m) => m.event?.type === 'timer'),
    ).toHaveLength(1);

    const text = messageWith(bob.client, 'this vanishes');
    const sent = await alice.client.sendText(direct.id, 'this vanishes');
    expect(sent.expiresInS).toBe(300);
    expect(sent.expiresAt).toBe(sent.sentAt + 300_000);
    const got = await text;
    expect(got.expiresInS).toBe(300);
    expect(got.expiresAt).toBeUndefined(); // received: runs from read
    const file = bob.client.next('message', (m) => m.kind === 'attachment');
    const att = await alice.client.sendAttachment(direct.id, utf8('secret file'), {
      contentType: 'text/plain',
      fileName: 'f.txt',
    });
    const gotAtt = await file;
    const unread = messageWith(bob.client, 'bob never reads this');
    await alice.client.sendText(direct.id, 'bob never reads this');
    const gotUnread = await unread;

    // Bob reads on the laptop; the phone learns it from his receipt and starts its timer too.
    const phoneRead = bob2.next(
      'receipt',
      (r) => r.type === 'read' && r.messageIds.includes(gotAtt.id),
    );
    await bob.client.markRead(direct.id, [got.id, gotAtt.id]);
    await phoneRead;
    expect((await bob.client.store.getMessage(got.id))?.expiresAt).toBeGreaterThan(time.now());
    expect((await bob2.store.getMessage(gotAtt.id))?.expiresAt).toBeGreaterThan(time.now());

    // 4 minutes: nothing is gone yet.
    time.offsetMs = 240_000;
    await Promise.all([
      alice.client.sweepExpired(),
      bob.client.sweepExpired(),
      bob2.sweepExpired(),
    ]);
    expect(await bob.client.store.getMessage(got.id)).toBeDefined();

    const gone = [
      expired(alice.client, [sent.id, att.id, gotUnread.id]),
      expired(bob.client, [got.id, gotAtt.id]),
      expired(bob2, [got.id, gotAtt.id]),
    ];
    time.offsetMs = 301_000;
    await Promise.all(gone); // the sweepers find them by themselves
    for (const c of [alice.client, bob.client, bob2]) {
      for (const id of [sent.id, att.id]) expect(await c.store.getMessage(id)).toBeUndefined();
      const texts = (await c.history(direct.id)).map((m) => m.text);
      expect(texts).toContain('before the timer');
      expect(texts).not.toContain('this vanishes');
    }
    // Never read by Bob: still there for him (it runs from read), gone for Alice (from send).
    expect((await bob.client.store.getMessage(gotUnread.id))?.text).toBe('bob never reads this');

    // Alice's sweeper deleted the blob: nobody can download it any more.
    const blobId = att.attachment!.id;
    await expect
      .poll(async () =>
        bob.client.api.chat.downloadAttachment(blobId).then(
          () => 200,
          (e: unknown) => (e instanceof ApiError ? e.status : 0),
        ),
      )
      .toBe(404);
    await expect(alice.client.api.chat.downloadAttachment(blobId)).rejects.toMatchObject({
      status: 404,
    });

    // Turning it off: new messages carry no timer.
    const off = timerEvent(bob.client);
    await alice.client.setDisappearingTimer(direct.id, null);
    expect((await off).event?.timerS).toBeNull();
    expect(bob.client.disappearingTimer(direct.id)).toBeNull();
    expect((await bob.client.sendText(direct.id, 'stays')).expiresInS).toBeUndefined();
  });

  it('when a plain member sets a group timer, then it is refused everywhere; an admin sets it, and a member added later starts with it', async () => {
    const time = clock();
    const alice = await signUp('alice', time.now);
    const bob = await signUp('bob', time.now);
    const carol = await signUp('carol', time.now);
    const dave = await signUp('dave', time.now);
    const group = await alice.client.createConversation({
      kind: 'group',
      memberIds: [bob.client.user.id, carol.client.user.id],
    });
    const ready = messageWith(carol.client, 'group ready');
    await alice.client.sendText(group.id, 'group ready');
    await ready;

    // Bob is a plain member: his own client refuses, and a forged op is refused by the others.
    await expect(bob.client.setDisappearingTimer(group.id, 300)).rejects.toMatchObject({
      code: 'forbidden',
    });
    const refused = alice.client.next('groupChangeRefused', (r) => r.op === 'timer');
    await bob.client.groups.sendRawControl(group.id, { op: 'timer', timerS: 300 });
    expect(await refused).toMatchObject({ fromUserId: bob.client.user.id, reason: 'not_allowed' });
    expect(alice.client.disappearingTimer(group.id)).toBeNull();

    // Alice (owner) sets one hour: every member applies it and shows the announcement.
    const seen = [timerEvent(bob.client), timerEvent(carol.client)];
    await alice.client.setDisappearingTimer(group.id, 3600);
    for (const e of await Promise.all(seen))
      expect(e.event).toMatchObject({
        type: 'timer',
        actorUserId: alice.client.user.id,
        timerS: 3600,
      });
    expect(carol.client.disappearingTimer(group.id)).toBe(3600);

    // Dave joins later: the group's state he starts from carries the timer.
    const added = dave.client.next(
      'message',
      (m) => m.kind === 'event' && m.event?.type === 'added',
    );
    await alice.client.groups.add(group.id, [dave.client.user.id]);
    await added;
    expect(dave.client.disappearingTimer(group.id)).toBe(3600);
    const toDave = messageWith(dave.client, 'for an hour after reading');
    await carol.client.sendText(group.id, 'for an hour after reading');
    const got = await toDave;
    expect(got.expiresInS).toBe(3600);
    await dave.client.markRead(group.id, [got.id]);
    time.offsetMs = 3_601_000;
    await dave.client.sweepExpired();
    expect(await dave.client.store.getMessage(got.id)).toBeUndefined();
  });
});
