import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { forgetUser } from '../src/store/user-data.repository.js';
import {
  api,
  connect,
  connectDrained,
  createUser,
  nextEvent,
  request,
  type ClientSocket,
  type TestUser,
} from './support/harness.js';
import { People, sendTo, type Presence } from './support/people.js';

// Issue 15: blocking (quiet, at the server), reports, privacy settings and device lists, played
// from outside: the blocked sender's sends succeed but nothing reaches the blocker.

const people = People.use('chatblk');
const blocksOf = async (u: TestUser) =>
  (await api(people.inst.url, u.token, 'GET', '/blocks')).body;

describe('blocking', () => {
  it('when I block a contact, then their sends still ack ok but nothing is stored or delivered for me, presence stops both ways at once; unblocking resumes both', async () => {
    const { me, friend, id } = await people.friends();
    const { socket: sm, box } = await connectDrained(people.inst.url, me.token, me.deviceId);
    const friendOnline = nextEvent<Presence>(sm, 'presence');
    const sf = await connect(people.inst.url, friend.token, friend.deviceId);
    expect(await friendOnline).toMatchObject({ userId: friend.userId, online: true });
    expect(await request(sf, 'presence:get', { userIds: [me.userId] })).toMatchObject({
      ok: true,
      data: [{ userId: me.userId, online: true }],
    });

    const friendSeesMeGo = nextEvent<Presence>(sf, 'presence');
    const iSeeFriendGo = nextEvent<Presence>(sm, 'presence');
    expect((await api(people.inst.url, me.token, 'PUT', `/blocks/${friend.userId}`)).status).toBe(
      204,
    );
    expect(await friendSeesMeGo).toEqual({ userId: me.userId, online: false, lastSeenAt: null });
    expect(await iSeeFriendGo).toEqual({ userId: friend.userId, online: false, lastSeenAt: null });
    expect((await api(people.inst.url, me.token, 'PUT', `/blocks/${friend.userId}`)).status).toBe(
      204,
    ); // idempotent
    expect(await blocksOf(me)).toEqual({ userIds: [friend.userId] });
    expect(await request(sf, 'presence:get', { userIds: [me.userId] })).toEqual({
      ok: true,
      data: [],
    });
    expect(await request(sm, 'presence:get', { userIds: [friend.userId] })).toEqual({
      ok: true,
      data: [],
    });

    // their messages: acked as usual, never stored or delivered for me
    const sent = await Promise.all([sendTo(sf, id, [me]), sendTo(sf, id, [me])]);
    expect(sent.map((s) => s.ok)).toEqual([true, true]);
    await request(sm, 'presence:get', { userIds: [friend.userId] });
    await sleep(300);
    expect(box.messages).toEqual([]);
    expect(
      await people.count(`SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`, [
        me.userId,
      ]),
    ).toBe(0);
    expect(
      await people.count(
        `SELECT count(*)::int AS n FROM chat.outbox WHERE payload->>'recipientUserId' = $1`,
        [me.userId],
      ),
    ).toBe(0);
    // and the conversation is unchanged for them: nothing tells them
    expect(
      (await api(people.inst.url, friend.token, 'GET', `/conversations/${id}`)).body.myState,
    ).toBe('accepted');

    // my messages still go to them (blocking is about what reaches me)
    const mine = await sendTo(sm, id, [friend]);
    expect(mine.ok).toBe(true);

    // neither hears the other come and go
    const heard: Presence[] = [];
    sm.on('presence', (p) => heard.push(p));
    sf.close();
    await sleep(300);
    expect(heard).toEqual([]);

    const { socket: sf2 } = await connectDrained(people.inst.url, friend.token, friend.deviceId);
    const friendSeesMeBack = nextEvent<Presence>(sf2, 'presence');
    expect(
      (await api(people.inst.url, me.token, 'DELETE', `/blocks/${friend.userId}`)).status,
    ).toBe(204);
    expect(await friendSeesMeBack).toMatchObject({ userId: me.userId, online: true });
    expect(
      (await api(people.inst.url, me.token, 'DELETE', `/blocks/${friend.userId}`)).status,
    ).toBe(204);
    expect(await blocksOf(me)).toEqual({ userIds: [] });
    const after = await sendTo(sf2, id, [me]);
    await box.waitForIds([after.ok ? after.data.messageId : 'missing']);
    expect(box.messages).toHaveLength(1);
    sm.close();
    sf2.close();
  });

  it('when a group member is blocked by one member and declined by another, then their group message reaches only the others, and what waited for the blocker is dropped', async () => {
    const me = await people.user();
    const bully = await people.user();
    const carol = await people.user();
    const dave = await people.user();
    const group = await people.open(bully, 'group', [me, carol, dave]);
    for (const u of [me, carol])
      expect(
        (await api(people.inst.url, u.token, 'POST', `/conversations/${group}/accept`)).status,
      ).toBe(204);
    const sb = await connect(people.inst.url, bully.token, bully.deviceId);
    const toAll = () => sendTo(sb, group, [me, carol, dave]);
    const waiting = await toAll();
    expect(waiting.ok).toBe(true);
    const mailbox = async (u: TestUser) =>
      people.count(
        `SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1 AND conversation_id = $2`,
        [u.userId, group],
      );
    expect([await mailbox(me), await mailbox(carol), await mailbox(dave)]).toEqual([1, 1, 1]);

    expect((await api(people.inst.url, me.token, 'PUT', `/blocks/${bully.userId}`)).status).toBe(
      204,
    );
    expect(
      (await api(people.inst.url, dave.token, 'POST', `/conversations/${group}/decline`)).status,
    ).toBe(204);
    expect([await mailbox(me), await mailbox(carol), await mailbox(dave)]).toEqual([0, 1, 0]);

    const { socket: sc, box } = await connectDrained(people.inst.url, carol.token, carol.deviceId);
    const { socket: sm, box: myBox } = await connectDrained(people.inst.url, me.token, me.deviceId);
    const next = await toAll();
    expect(next.ok).toBe(true);
    await box.waitForIds([next.ok ? next.data.messageId : 'missing']);
    await sleep(300);
    expect(myBox.messages).toEqual([]);
    expect([await mailbox(me), await mailbox(carol), await mailbox(dave)]).toEqual([0, 2, 0]);
    sb.close();
    sc.close();
    sm.close();
  });

  it('when the block names myself or is not a user id, then 400 and nothing is stored', async () => {
    const me = await people.user();
    for (const [method, target] of [
      ['PUT', me.userId],
      ['PUT', 'nope'],
      ['DELETE', 'nope'],
      ['DELETE', me.userId],
    ]) {
      const r = await api(people.inst.url, me.token, method as string, `/blocks/${target}`);
      expect([r.status, r.body.error.code], `${method} ${target}`).toEqual([
        400,
        'validation_error',
      ]);
    }
    expect(await blocksOf(me)).toEqual({ userIds: [] });
    expect(
      await people.count(`SELECT count(*)::int AS n FROM chat.blocks WHERE blocker_id = $1`, [
        me.userId,
      ]),
    ).toBe(0);
  });
});

describe('reports', () => {
  it('when I report someone who wrote to me, then 202 and the operators have it (block: true also blocks); a stranger or a foreign conversation is 404, bad input 400, nothing stored', async () => {
    const me = await people.user();
    const spammer = await people.user();
    const stranger = await people.user();
    const id = await people.open(spammer, 'direct', [me]);
    const elsewhere = await people.open(stranger, 'direct', [spammer]);
    const reports = () =>
      people.count(`SELECT count(*)::int AS n FROM chat.reports WHERE reporter_id = $1`, [
        me.userId,
      ]);

    for (const body of [
      { userId: spammer.userId, reason: 'rude' },
      { userId: spammer.userId },
      { userId: 'x', reason: 'spam' },
      { userId: spammer.userId, reason: 'spam', note: 'n'.repeat(501) },
      { userId: spammer.userId, reason: 'spam', extra: 1 },
      { userId: spammer.userId, reason: 'spam', block: 'yes' },
      { userId: me.userId, reason: 'spam' },
    ]) {
      const r = await api(people.inst.url, me.token, 'POST', '/reports', body);
      expect([r.status, r.body.error.code], JSON.stringify(body).slice(0, 80)).toEqual([
        400,
        'validation_error',
      ]);
    }
    for (const body of [
      { userId: stranger.userId, reason: 'spam' },
      { userId: spammer.userId, reason: 'spam', conversationId: elsewhere },
    ]) {
      const r = await api(people.inst.url, me.token, 'POST', '/reports', body);
      expect([r.status, r.body.error.code]).toEqual([404, 'not_found']);
    }
    expect(await reports()).toBe(0);
    expect(await blocksOf(me)).toEqual({ userIds: [] });

    expect(
      (
        await api(people.inst.url, me.token, 'POST', '/reports', {
          userId: spammer.userId,
          conversationId: id,
          reason: 'spam',
          note: ' sells pills ',
          block: true,
        })
      ).status,
    ).toBe(202);
    expect(
      await people.inst.app.ds.query(
        `SELECT reported_id, conversation_id, reason, note FROM chat.reports WHERE reporter_id = $1`,
        [me.userId],
      ),
    ).toEqual([
      { reported_id: spammer.userId, conversation_id: id, reason: 'spam', note: 'sells pills' },
    ]);
    expect(await blocksOf(me)).toEqual({ userIds: [spammer.userId] });
  });

  it('when one user reports past RATE_REPORTS_PER_HOUR, then 429 rate_limited and no more reports are stored', async () => {
    const limited = await people.env.start({ RATE_REPORTS_PER_HOUR: '2' });
    const me = await createUser(limited, people.env.mint);
    const other = await createUser(limited, people.env.mint);
    await api(limited.url, other.token, 'POST', '/conversations', {
      kind: 'direct',
      memberIds: [me.userId],
    });
    const codes = [];
    for (let i = 0; i < 3; i++)
      codes.push(
        (
          await api(limited.url, me.token, 'POST', '/reports', {
            userId: other.userId,
            reason: 'abuse',
          })
        ).status,
      );
    expect(codes).toEqual([202, 202, 429]);
    expect(
      await people.count(`SELECT count(*)::int AS n FROM chat.reports WHERE reporter_id = $1`, [
        me.userId,
      ]),
    ).toBe(2);
  });
});

describe('privacy settings', () => {
  it('when I read my settings, then the defaults; a bad body is 400 and changes nothing; a good one is kept', async () => {
    const me = await people.user();
    expect((await api(people.inst.url, me.token, 'GET', '/privacy')).body).toEqual({
      readReceipts: true,
      typing: true,
      lastSeen: true,
    });
    for (const body of [
      {},
      { readReceipts: false, typing: true },
      { readReceipts: 'no', typing: true, lastSeen: true },
      { readReceipts: false, typing: true, lastSeen: true, extra: 1 },
    ]) {
      const r = await api(people.inst.url, me.token, 'PUT', '/privacy', body);
      expect([r.status, r.body.error.code]).toEqual([400, 'validation_error']);
    }
    expect(
      await people.count(
        `SELECT count(*)::int AS n FROM chat.privacy_settings WHERE user_id = $1`,
        [me.userId],
      ),
    ).toBe(0);
    const next = { readReceipts: false, typing: false, lastSeen: true };
    expect((await api(people.inst.url, me.token, 'PUT', '/privacy', next)).body).toEqual(next);
    expect((await api(people.inst.url, me.token, 'GET', '/privacy')).body).toEqual(next);
  });

  it('when I change my settings from device A, then my devices (B too) get privacy:changed with the new settings at once; nobody else hears of it', async () => {
    const me = await people.user(2);
    const friend = await people.user();
    const stranger = await people.user();
    await people.open(friend, 'direct', [me]);
    const heard: Record<string, unknown[]> = { a: [], b: [], friend: [], stranger: [] };
    const listen = (key: string) => (s: ClientSocket) =>
      s.on('privacy:changed', (p) => heard[key]?.push(p));
    const [a, b] = me.deviceIds as [number, number];
    const sa = await connect(people.inst.url, me.token, a, { listen: listen('a') });
    const sb = await connect(people.inst.url, me.token, b, { listen: listen('b') });
    const sf = await connect(people.inst.url, friend.token, friend.deviceId, {
      listen: listen('friend'),
    });
    const ss = await connect(people.inst.url, stranger.token, stranger.deviceId, {
      listen: listen('stranger'),
    });
    const next = { readReceipts: false, typing: true, lastSeen: false };
    const told = nextEvent(sb, 'privacy:changed');
    // device A's PUT (with device A's proof, which the harness adds as a real client does)
    expect((await api(people.inst.url, me.token, 'PUT', '/privacy', next)).status).toBe(200);
    expect(await told).toEqual(next);
    // a refused change tells nobody
    const bad = await api(people.inst.url, me.token, 'PUT', '/privacy', { typing: false });
    expect(bad.status).toBe(400);
    // a round trip on every socket: whatever was emitted to it before has arrived
    for (const s of [sa, sb, sf, ss]) await request(s, 'presence:get', { userIds: [me.userId] });
    expect(heard).toEqual({ a: [next], b: [next], friend: [], stranger: [] });
    for (const s of [sa, sb, sf, ss]) s.close();
  });
});

describe('device lists', () => {
  it('when a stranger asks for my device list, then 404; once we share a conversation, and for myself, the list', async () => {
    const me = await people.user(2);
    const stranger = await people.user();
    const r = await api(people.inst.url, stranger.token, 'GET', `/users/${me.userId}/devices`);
    expect([r.status, r.body.error.code]).toEqual([404, 'not_found']);
    expect(JSON.stringify(r.body)).not.toContain(String(me.deviceIds[1]));
    expect(
      (await api(people.inst.url, stranger.token, 'GET', `/users/${randomUUID()}/devices`)).status,
    ).toBe(404);
    expect(
      (await api(people.inst.url, me.token, 'GET', `/users/${me.userId}/devices`)).body,
    ).toEqual({
      deviceIds: me.deviceIds,
    });
    await people.open(stranger, 'direct', [me]);
    expect(
      (await api(people.inst.url, stranger.token, 'GET', `/users/${me.userId}/devices`)).body,
    ).toEqual({ deviceIds: me.deviceIds });
  });
});

describe('account deletion', () => {
  it('when a user is forgotten, then their blocks (both ways), privacy settings and the reports they made are gone', async () => {
    const { me, friend } = await people.friends();
    await api(people.inst.url, me.token, 'PUT', `/blocks/${friend.userId}`);
    await api(people.inst.url, friend.token, 'PUT', `/blocks/${me.userId}`);
    await api(people.inst.url, me.token, 'PUT', '/privacy', {
      readReceipts: false,
      typing: false,
      lastSeen: false,
    });
    expect(
      (
        await api(people.inst.url, me.token, 'POST', '/reports', {
          userId: friend.userId,
          reason: 'other',
        })
      ).status,
    ).toBe(202);
    await people.inst.app.ds.transaction((m) => forgetUser(m, me.userId));
    expect(
      await people.count(
        `SELECT count(*)::int AS n FROM chat.blocks WHERE blocker_id = $1 OR blocked_id = $1`,
        [me.userId],
      ),
    ).toBe(0);
    expect(
      await people.count(
        `SELECT count(*)::int AS n FROM chat.privacy_settings WHERE user_id = $1`,
        [me.userId],
      ),
    ).toBe(0);
    expect(
      await people.count(`SELECT count(*)::int AS n FROM chat.reports WHERE reporter_id = $1`, [
        me.userId,
      ]),
    ).toBe(0);
  });
});
