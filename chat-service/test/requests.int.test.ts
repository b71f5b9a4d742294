import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  api,
  connect,
  connectDrained,
  nextEvent,
  request,
  type TestUser,
} from './support/harness.js';
import { People, presenceOf, sendTo, type Presence } from './support/people.js';

// Issue 15, message requests, from outside (a stranger's account): until I accept, a stranger
// who opens a conversation with me gets no presence and no last seen of mine; declining hides
// the conversation and quietly stops what they send, without telling them.

const people = People.use('chatreq');
const mailboxOf = async (u: TestUser) =>
  (
    (await people.inst.app.ds.query(
      `SELECT message_id FROM chat.mailbox WHERE recipient_user = $1`,
      [u.userId],
    )) as { message_id: string }[]
  ).map((r) => r.message_id);

describe('who gets a request', () => {
  it('when a stranger opens a direct conversation or a group with me, then it is a request for me and accepted for them; someone I know adds me straight away', async () => {
    const me = await people.user();
    const stranger = await people.user();
    const friend = await people.user();
    const direct = await people.open(stranger, 'direct', [me]);
    expect(await people.myState(me, direct)).toBe('request');
    expect(await people.myState(stranger, direct)).toBe('accepted');
    const listed = (await api(people.inst.url, me.token, 'GET', '/conversations')).body
      .conversations as {
      id: string;
      myState: string;
      members: object[];
    }[];
    expect(listed.map((c) => [c.id, c.myState])).toEqual([[direct, 'request']]);
    // nobody's state but my own is shown
    expect(listed[0]?.members.every((m) => !('state' in m))).toBe(true);

    const group = await people.open(stranger, 'group', [me, friend]);
    expect(await people.myState(me, group)).toBe('request');
    expect(await people.myState(friend, group)).toBe('request');

    // I accepted a conversation with my friend: a group I make has them accepted, and one they make too
    const ours = await people.open(me, 'direct', [friend]);
    expect(await people.myState(friend, ours)).toBe('request');
    expect(
      (await api(people.inst.url, friend.token, 'POST', `/conversations/${ours}/accept`)).status,
    ).toBe(204);
    expect(await people.myState(friend, await people.open(me, 'group', [friend]))).toBe('accepted');
    expect(await people.myState(me, await people.open(friend, 'group', [me]))).toBe('accepted');

    // added to a group by a stranger: a request
    const newcomer = await people.user();
    expect(
      (
        await api(people.inst.url, stranger.token, 'POST', `/conversations/${group}/members`, {
          userIds: [newcomer.userId],
        })
      ).status,
    ).toBe(200);
    expect(await people.myState(newcomer, group)).toBe('request');

    const self = (
      await api(people.inst.url, me.token, 'POST', '/conversations', {
        kind: 'self',
        memberIds: [me.userId],
      })
    ).body;
    expect(self.myState).toBe('accepted');
  });

  it('when I open the direct conversation a stranger started with me, then it is accepted for me', async () => {
    const me = await people.user();
    const stranger = await people.user();
    const id = await people.open(stranger, 'direct', [me]);
    const again = await api(people.inst.url, me.token, 'POST', '/conversations', {
      kind: 'direct',
      memberIds: [stranger.userId],
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id, myState: 'accepted' });
  });

  it("when accept or decline names a bad id or someone else's conversation, then 400 or 404 and nothing changes", async () => {
    const me = await people.user();
    const stranger = await people.user();
    const other = await people.user();
    const theirs = await people.open(stranger, 'direct', [other]);
    for (const action of ['accept', 'decline']) {
      const bad = await api(
        people.inst.url,
        me.token,
        'POST',
        `/conversations/not-a-uuid/${action}`,
      );
      expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_error']);
      const foreign = await api(
        people.inst.url,
        me.token,
        'POST',
        `/conversations/${theirs}/${action}`,
      );
      expect([foreign.status, foreign.body.error.code]).toEqual([404, 'not_found']);
      expect(
        (await api(people.inst.url, me.token, 'POST', `/conversations/${randomUUID()}/${action}`))
          .status,
      ).toBe(404);
    }
    expect(await people.myState(other, theirs)).toBe('request');
    // an accepted conversation cannot be declined (leave it or block instead)
    const mine = await people.open(me, 'direct', [other]);
    expect(
      (await api(people.inst.url, me.token, 'POST', `/conversations/${mine}/decline`)).status,
    ).toBe(409);
    expect(await people.myState(me, mine)).toBe('accepted');
  });
});

describe('presence before and after accepting', () => {
  it('when a stranger opens a direct conversation with me, then they get no presence push, no presence:get answer and no last seen of mine until I accept; after that they do', async () => {
    const me = await people.user();
    const stranger = await people.user();
    const id = await people.open(stranger, 'direct', [me]);
    const ss = await connect(people.inst.url, stranger.token, stranger.deviceId);
    const strangerHeard = presenceOf(ss);

    // I come online and go offline (so I have a last seen): the stranger hears nothing, and asking gets nothing
    const first = await connect(people.inst.url, me.token, me.deviceId);
    first.close();
    let sm = await connect(people.inst.url, me.token, me.deviceId);
    const iHeard = presenceOf(sm);
    expect(await request(ss, 'presence:get', { userIds: [me.userId] })).toEqual({
      ok: true,
      data: [],
    });
    expect(await request(sm, 'presence:get', { userIds: [stranger.userId] })).toEqual({
      ok: true,
      data: [],
    });
    await sleep(300);
    expect(strangerHeard).toEqual([]);

    // accepting starts presence at once, both ways
    const strangerSeesMe = nextEvent<Presence>(ss, 'presence');
    const iSeeStranger = nextEvent<Presence>(sm, 'presence');
    expect(
      (await api(people.inst.url, me.token, 'POST', `/conversations/${id}/accept`)).status,
    ).toBe(204);
    expect(await strangerSeesMe).toMatchObject({ userId: me.userId, online: true });
    expect(await iSeeStranger).toMatchObject({ userId: stranger.userId, online: true });
    expect(await request(ss, 'presence:get', { userIds: [me.userId] })).toMatchObject({
      ok: true,
      data: [{ userId: me.userId, online: true }],
    });
    // idempotent
    expect(
      (await api(people.inst.url, me.token, 'POST', `/conversations/${id}/accept`)).status,
    ).toBe(204);
    expect(await people.myState(me, id)).toBe('accepted');

    const offline = nextEvent<Presence>(ss, 'presence');
    sm.close();
    const off = await offline;
    expect(off).toMatchObject({ userId: me.userId, online: false });
    expect(Date.parse(off.lastSeenAt as string)).not.toBeNaN();

    // last seen off: the stranger (now a contact) sees me online or offline, never when
    expect(
      (
        await api(people.inst.url, me.token, 'PUT', '/privacy', {
          readReceipts: true,
          typing: true,
          lastSeen: false,
        })
      ).status,
    ).toBe(200);
    expect(await request(ss, 'presence:get', { userIds: [me.userId] })).toEqual({
      ok: true,
      data: [{ userId: me.userId, online: false, lastSeenAt: null }],
    });
    const online = nextEvent<Presence>(ss, 'presence');
    sm = await connect(people.inst.url, me.token, me.deviceId);
    expect(await online).toEqual({ userId: me.userId, online: true, lastSeenAt: null });
    const offAgain = nextEvent<Presence>(ss, 'presence');
    sm.close();
    expect(await offAgain).toEqual({ userId: me.userId, online: false, lastSeenAt: null });
    expect(iHeard.map((p) => p.userId)).toEqual([stranger.userId]);
    ss.close();
  });
});

describe('declining a request', () => {
  it('when I decline, then the conversation leaves my list, the sender is not told (their sends succeed) and nothing of theirs reaches my devices', async () => {
    const me = await people.user();
    const stranger = await people.user();
    const id = await people.open(stranger, 'direct', [me]);
    const ss = await connect(people.inst.url, stranger.token, stranger.deviceId);
    // a request still carries messages (the client shows them as a request)
    const before = await sendTo(ss, id, [me]);
    expect(before.ok).toBe(true);
    expect(await mailboxOf(me)).toHaveLength(1);

    const { socket: sm, box } = await connectDrained(people.inst.url, me.token, me.deviceId);
    const told = nextEvent<{ conversationId: string }>(sm, 'conversation:updated');
    const strangerHeard: unknown[] = [];
    ss.on('conversation:updated', (x) => strangerHeard.push(x));
    expect(
      (await api(people.inst.url, me.token, 'POST', `/conversations/${id}/decline`)).status,
    ).toBe(204);
    expect(await told).toEqual({ conversationId: id });
    expect(
      (await api(people.inst.url, me.token, 'POST', `/conversations/${id}/decline`)).status,
    ).toBe(204);
    expect(
      (await api(people.inst.url, me.token, 'GET', '/conversations')).body.conversations,
    ).toEqual([]);
    expect((await api(people.inst.url, me.token, 'GET', `/conversations/${id}`)).status).toBe(404);

    // the sender sees nothing change and keeps sending successfully
    const theirView = (await api(people.inst.url, stranger.token, 'GET', `/conversations/${id}`))
      .body;
    expect(theirView.members.map((m: { userId: string }) => m.userId).sort()).toEqual(
      [me.userId, stranger.userId].sort(),
    );
    const after = await Promise.all([sendTo(ss, id, [me]), sendTo(ss, id, [me])]);
    expect(after.map((a) => a.ok)).toEqual([true, true]);
    await request(sm, 'presence:get', { userIds: [stranger.userId] });
    await sleep(300);
    expect(box.messages.map((m) => m.messageId)).toEqual([before.ok ? before.data.messageId : '']);
    expect(await mailboxOf(me)).toEqual([]); // and what still waited from it was dropped at the decline
    expect(strangerHeard).toEqual([]);

    // changing my mind: opening the conversation myself makes it accepted and messages flow again
    expect(
      (
        await api(people.inst.url, me.token, 'POST', '/conversations', {
          kind: 'direct',
          memberIds: [stranger.userId],
        })
      ).body.myState,
    ).toBe('accepted');
    const resumed = await sendTo(ss, id, [me]);
    await box.waitForIds([resumed.ok ? resumed.data.messageId : 'missing']);
    sm.close();
    ss.close();
  });
});
