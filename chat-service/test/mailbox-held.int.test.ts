import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, connect, fakeBody, request, type TestUser } from './support/harness.js';
import { People, sendTo } from './support/people.js';

// Review 15 (adversarial review of the held / request budget rewrite). These tests state what
// docs/operations.md §11 promises and FAIL on 6042068: they are the reproductions of the
// findings in the review report, not regression tests of a fix.

/** Three envelopes per device mailbox, so that "full" is reached in a few sends. */
const people = People.use('chatreview15', {
  MAILBOX_MAX_MESSAGES: '3',
  MAILBOX_REQUEST_MAX_MESSAGES: '50',
});

/** @returns the answers to `n` sends of one envelope each to `to`, `ok` or the error code */
async function sends(from: TestUser, conversationId: string, to: TestUser[], n: number) {
  const socket = await connect(people.inst.url, from.token, from.deviceId);
  try {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const ack = await sendTo(socket, conversationId, to);
      out.push(ack.ok ? 'ok' : ack.error.code);
    }
    return out;
  } finally {
    socket.close();
  }
}

/** Fills the (offline) mailbox of `u`'s only device through a contact of theirs. */
async function fillMailbox(u: TestUser): Promise<void> {
  const filler = await people.user();
  const id = await people.open(filler, 'direct', [u]);
  expect((await api(people.inst.url, u.token, 'POST', `/conversations/${id}/accept`)).status).toBe(
    204,
  );
  expect(await sends(filler, id, [u], 4)).toEqual(['ok', 'ok', 'ok', 'mailbox_full']);
}

describe('review 15: held envelopes still answer like stored ones?', () => {
  it('F1: a contact who keeps writing to me while I am offline gets the same answers whether or not I blocked them', async () => {
    // control: not blocked, I am offline: the 4th send is refused (my device's mailbox is full)
    const a = await people.friends();
    const notBlocked = await sends(a.friend, a.id, [a.me], 4);
    // blocked: held envelopes never fill the mailbox, so the answer never turns to mailbox_full
    const b = await people.friends();
    expect(
      (await api(people.inst.url, b.me.token, 'PUT', `/blocks/${b.friend.userId}`)).status,
    ).toBe(204);
    const blocked = await sends(b.friend, b.id, [b.me], 4);
    expect(notBlocked).toEqual(['ok', 'ok', 'ok', 'mailbox_full']);
    // FAILS: ['ok','ok','ok','ok'] -- the difference is the block
    expect(blocked).toEqual(notBlocked);
  });

  it('F2: a group member who declined (their envelopes are dropped anyway) does not make the group fail for every sender', async () => {
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
    // the decliner's only device is full of what their own contacts sent (they were away)
    await fillMailbox(decliner);
    // FAILS: ['mailbox_full'] -- nothing would be stored for the decliner, yet nobody gets it
    expect(await sends(owner, group, [friend, decliner], 1)).toEqual(['ok']);
  });

  it('F3: one member can silence a whole group by filling their own second device from their self conversation', async () => {
    const owner = await people.user();
    const friend = await people.user();
    const troll = await people.user(2);
    for (const u of [friend, troll]) {
      const d = await people.open(owner, 'direct', [u]);
      expect(
        (await api(people.inst.url, u.token, 'POST', `/conversations/${d}/accept`)).status,
      ).toBe(204);
    }
    const group = await people.open(owner, 'group', [friend, troll]);
    expect(await people.myState(troll, group)).toBe('accepted');
    // the troll's self conversation, device 1 -> device 2 (which never connects)
    const self = await api(people.inst.url, troll.token, 'POST', '/conversations', {
      kind: 'self',
      memberIds: [troll.userId],
    });
    expect(self.status).toBe(201);
    const socket = await connect(people.inst.url, troll.token, troll.deviceIds[0] as number);
    for (let i = 0; i < 3; i++) {
      const ack = await request(socket, 'message:send', {
        conversationId: self.body.id,
        clientMessageId: randomUUID(),
        envelopes: [
          { userId: troll.userId, deviceId: troll.deviceIds[1], type: 1, body: fakeBody() },
        ],
      });
      expect(ack.ok).toBe(true);
    }
    socket.close();
    // every group member's send now carries an envelope for the troll's full device
    const envelopesTo = [friend, troll, { ...troll, deviceId: troll.deviceIds[1] as number }];
    // FAILS: ['mailbox_full'] -- the owner cannot write to the group until the troll drains
    expect(await sends(owner, group, envelopesTo, 1)).toEqual(['ok']);
  });
});
