import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  api,
  connect,
  connectDrained,
  fakeBody,
  nextEvent,
  request,
  type TestUser,
} from './support/harness.js';
import { People } from './support/people.js';

// Review 15 (F1-F3): envelopes dropped instead of stored must answer like stored ones (the mailbox
// cap tells nobody about a block), and in a group one member's full device drops only its own
// envelope, it never refuses the group's message (docs/operations.md §11).

/** Three envelopes per device mailbox, so that "full" is reached in a few sends. */
const people = People.use('chatmailboxheld', {
  MAILBOX_MAX_MESSAGES: '3',
  MAILBOX_REQUEST_MAX_MESSAGES: '50',
});

const sends = (from: TestUser, conversationId: string, to: TestUser[], n: number) =>
  people.sends(from, conversationId, to, n);

/** Fills the (offline) mailbox of `u`'s only device through a contact of theirs. */
async function fillMailbox(u: TestUser): Promise<void> {
  const filler = await people.user();
  const id = await people.open(filler, 'direct', [u]);
  expect((await api(people.inst.url, u.token, 'POST', `/conversations/${id}/accept`)).status).toBe(
    204,
  );
  expect(await sends(filler, id, [u], 4)).toEqual(['ok', 'ok', 'ok', 'mailbox_full']);
}

/** @returns `u`'s self conversation and a socket of their first device */
async function selfOf(u: TestUser & { deviceIds: number[] }) {
  const self = await api(people.inst.url, u.token, 'POST', '/conversations', {
    kind: 'self',
    memberIds: [u.userId],
  });
  expect(self.status).toBe(201);
  const socket = await connect(people.inst.url, u.token, u.deviceIds[0] as number);
  const toSecond = () =>
    request(socket, 'message:send', {
      conversationId: self.body.id,
      clientMessageId: randomUUID(),
      envelopes: [{ userId: u.userId, deviceId: u.deviceIds[1], type: 1, body: fakeBody() }],
    });
  return { socket, toSecond };
}

/** @returns a group of `owner` with `members`, each of whom accepted a direct chat with the owner first */
async function groupOfContacts(owner: TestUser, members: TestUser[]): Promise<string> {
  for (const u of members) {
    const d = await people.open(owner, 'direct', [u]);
    expect((await api(people.inst.url, u.token, 'POST', `/conversations/${d}/accept`)).status).toBe(
      204,
    );
  }
  const group = await people.open(owner, 'group', members);
  for (const u of members) expect(await people.myState(u, group)).toBe('accepted');
  return group;
}

describe('held envelopes answer like stored ones', () => {
  it('when a contact keeps writing to me while I am offline, then they get the same answers whether or not I blocked them', async () => {
    const a = await people.friends();
    const notBlocked = await sends(a.friend, a.id, [a.me], 4);
    const b = await people.friends();
    expect(
      (await api(people.inst.url, b.me.token, 'PUT', `/blocks/${b.friend.userId}`)).status,
    ).toBe(204);
    const blocked = await sends(b.friend, b.id, [b.me], 4);
    expect(notBlocked).toEqual(['ok', 'ok', 'ok', 'mailbox_full']);
    expect(blocked).toEqual(notBlocked);
    // and nothing of theirs waits for me
    const { socket, box } = await connectDrained(people.inst.url, b.me.token, b.me.deviceId);
    socket.close();
    expect(box.messages).toHaveLength(0);
  });

  it('when someone I blocked fills their share while I am offline, then my other contacts can still write to me, and my coming online tells the blocked one nothing', async () => {
    const b = await people.friends();
    expect(
      (await api(people.inst.url, b.me.token, 'PUT', `/blocks/${b.friend.userId}`)).status,
    ).toBe(204);
    expect(await sends(b.friend, b.id, [b.me], 4)).toEqual(['ok', 'ok', 'ok', 'mailbox_full']);
    // their dropped envelopes take no room: a contact I accepted still gets through
    const c = await people.user();
    const id = await people.open(c, 'direct', [b.me]);
    expect(
      (await api(people.inst.url, b.me.token, 'POST', `/conversations/${id}/accept`)).status,
    ).toBe(204);
    expect(await sends(c, id, [b.me], 1)).toEqual(['ok']);
    // I come online and drain: to the blocked contact I still look offline (no presence leak)
    const { socket, box } = await connectDrained(people.inst.url, b.me.token, b.me.deviceId);
    socket.close();
    expect(box.messages).toHaveLength(1);
    expect(await sends(b.friend, b.id, [b.me], 1)).toEqual(['mailbox_full']);
  });

  it('when the retention job runs past their age, then the held tally of a blocked contact is gone like the envelopes it stands for', async () => {
    const b = await people.friends();
    expect(
      (await api(people.inst.url, b.me.token, 'PUT', `/blocks/${b.friend.userId}`)).status,
    ).toBe(204);
    expect(await sends(b.friend, b.id, [b.me], 4)).toEqual(['ok', 'ok', 'ok', 'mailbox_full']);
    await people.inst.app.ds.query(
      `UPDATE chat.mailbox_held_from SET updated_at = now() - interval '400 days' WHERE sender_user = $1`,
      [b.friend.userId],
    );
    await people.inst.app.retention.runOnce();
    expect(await sends(b.friend, b.id, [b.me], 1)).toEqual(['ok']);
  });

  it('when I unblock a contact whose dropped messages filled their share, then they can write to me again at once', async () => {
    const b = await people.friends();
    const block = `/blocks/${b.friend.userId}`;
    expect((await api(people.inst.url, b.me.token, 'PUT', block)).status).toBe(204);
    expect(await sends(b.friend, b.id, [b.me], 4)).toEqual(['ok', 'ok', 'ok', 'mailbox_full']);
    expect((await api(people.inst.url, b.me.token, 'DELETE', block)).status).toBe(204);
    expect(await sends(b.friend, b.id, [b.me], 1)).toEqual(['ok']);
    const { socket, box } = await connectDrained(people.inst.url, b.me.token, b.me.deviceId);
    socket.close();
    expect(box.messages).toHaveLength(1);
  });

  it('when I am connected, then a blocked contact never runs into mailbox_full (a stored message would be acked at once)', async () => {
    const b = await people.friends();
    expect(
      (await api(people.inst.url, b.me.token, 'PUT', `/blocks/${b.friend.userId}`)).status,
    ).toBe(204);
    const { socket, box } = await connectDrained(people.inst.url, b.me.token, b.me.deviceId);
    try {
      expect(await sends(b.friend, b.id, [b.me], 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      expect(box.messages).toHaveLength(0);
    } finally {
      socket.close();
    }
  });
});

describe('a full device never refuses a group message', () => {
  it('when a member who declined a group has a full mailbox, then the group message is still sent to the others', async () => {
    const owner = await people.user();
    const friend = await people.user();
    const decliner = await people.user();
    const direct = await people.open(owner, 'direct', [friend]);
    expect(
      (await api(people.inst.url, friend.token, 'POST', `/conversations/${direct}/accept`)).status,
    ).toBe(204);
    const group = await people.open(owner, 'group', [friend, decliner]);
    expect(
      (await api(people.inst.url, decliner.token, 'POST', `/conversations/${group}/decline`))
        .status,
    ).toBe(204);
    await fillMailbox(decliner);
    expect(await sends(owner, group, [friend, decliner], 1)).toEqual(['ok']);
    const { socket, box } = await connectDrained(people.inst.url, friend.token, friend.deviceId);
    socket.close();
    expect(box.messages.filter((m) => m.conversationId === group)).toHaveLength(1);
  });

  it('when a member fills their own second device from their self conversation, then the group still gets every message and that device is told how many it missed', async () => {
    const owner = await people.user();
    const friend = await people.user();
    const troll = await people.user(2);
    const group = await groupOfContacts(owner, [friend, troll]);
    const self = await selfOf(troll);
    for (let i = 0; i < 3; i++) expect((await self.toSecond()).ok).toBe(true);
    // a self conversation still refuses: the only one it stops is its owner
    expect(await self.toSecond()).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
    self.socket.close();
    const envelopesTo = [friend, troll, { ...troll, deviceId: troll.deviceIds[1] as number }];
    expect(await sends(owner, group, envelopesTo, 2)).toEqual(['ok', 'ok']);
    const f = await connectDrained(people.inst.url, friend.token, friend.deviceId);
    f.socket.close();
    expect(f.box.messages.filter((m) => m.conversationId === group)).toHaveLength(2);
    // the full device gets its 3 waiting envelopes, none of the group's, and is told it missed 2
    let empty!: Promise<unknown>;
    const second = await connect(people.inst.url, troll.token, troll.deviceIds[1] as number, {
      listen: (s) => {
        empty = nextEvent(s, 'mailbox:empty');
      },
    });
    try {
      expect(await empty).toEqual({ missed: 2 });
    } finally {
      second.close();
    }
    // told once: the next drain reports nothing missed
    const again = await connectDrained(people.inst.url, troll.token, troll.deviceIds[1] as number);
    again.socket.close();
    expect(again.box.messages.filter((m) => m.conversationId === group)).toHaveLength(0);
  });

  it('when a blocked member writes to a group whose blocker is offline, then the answer stays ok however many they send', async () => {
    const owner = await people.user();
    const blocker = await people.user();
    const group = await groupOfContacts(owner, [blocker]);
    expect(
      (await api(people.inst.url, blocker.token, 'PUT', `/blocks/${owner.userId}`)).status,
    ).toBe(204);
    expect(await sends(owner, group, [blocker], 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });
});
