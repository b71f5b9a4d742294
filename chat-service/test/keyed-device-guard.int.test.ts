import { describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  deviceSecretOf,
  type DeviceProof,
  type TestUser,
} from './support/harness.js';
import { People } from './support/people.js';

// Review 15 (F5, F6). A thief with a fresh stolen access token can register a device and so hold
// a device secret, but that device never uploaded keys: it must not lower the account's guard
// (accept, unblock, privacy, open conversations, add members). What raises the guard (block,
// decline, report-and-block) works with any of my devices, and no report limit stops a block.

const people = People.use('chatkeyedguard');

/** Registers a device for `u` without uploading keys (what a thief with the token can do). */
async function unkeyedDevice(u: TestUser): Promise<DeviceProof> {
  const d = await api(people.inst.url, u.token, 'POST', '/devices', { name: 'thief' });
  expect(d.status).toBe(201);
  return {
    deviceId: d.body.deviceId as number,
    secret: deviceSecretOf(u.userId, d.body.deviceId as number) as string,
  };
}

const proofOf = (u: TestUser): DeviceProof => ({
  deviceId: u.deviceId,
  secret: deviceSecretOf(u.userId, u.deviceId) as string,
});

describe('a device that never uploaded keys', () => {
  it('when it accepts, unblocks, changes privacy, opens a conversation or adds a member, then 403 invalid_device_credentials and nothing changes; my keyed device can', async () => {
    const me = await people.user();
    const stalker = await people.user();
    const friend = await people.user();
    const thief = await unkeyedDevice(me);
    const request = await people.open(stalker, 'direct', [me]);
    expect((await api(people.inst.url, me.token, 'PUT', `/blocks/${stalker.userId}`)).status).toBe(
      204,
    );
    const extra = await people.user();
    const group = await people.open(me, 'group', [extra]);
    const calls: [string, string, unknown][] = [
      ['POST', `/conversations/${request}/accept`, undefined],
      ['DELETE', `/blocks/${stalker.userId}`, undefined],
      ['PUT', '/privacy', { readReceipts: false, typing: false, lastSeen: false }],
      ['POST', '/conversations', { kind: 'direct', memberIds: [friend.userId] }],
      ['POST', `/conversations/${group}/members`, { userIds: [friend.userId] }],
    ];
    for (const [method, path, body] of calls) {
      const r = await api(people.inst.url, me.token, method, path, body, { proof: thief });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.code).toBe('invalid_device_credentials');
    }
    // nothing changed
    expect(await people.myState(me, request)).toBe('request');
    expect((await api(people.inst.url, me.token, 'GET', '/blocks')).body).toEqual({
      userIds: [stalker.userId],
    });
    expect(
      await people.count(
        `SELECT count(*)::int AS n FROM chat.privacy_settings WHERE user_id = $1`,
        [me.userId],
      ),
    ).toBe(0);
    expect(
      (await api(people.inst.url, me.token, 'GET', `/conversations/${group}`)).body.members,
    ).toHaveLength(2);
    expect(
      await people.count(
        `SELECT count(*)::int AS n FROM chat.conversation_members cm JOIN chat.conversations c ON c.id = cm.conversation_id
          WHERE cm.user_id = $1 AND c.kind = 'direct'`,
        [friend.userId],
      ),
    ).toBe(0);
    // my keyed device can
    const statuses = [];
    for (const [method, path, body] of calls)
      statuses.push(
        (await api(people.inst.url, me.token, method, path, body, { proof: proofOf(me) })).status,
      );
    expect(statuses).toEqual([204, 204, 200, 201, 200]);
  });

  it('when it blocks or declines, then that works (raising my guard needs only a device of mine)', async () => {
    const me = await people.user();
    const stranger = await people.user();
    const thief = await unkeyedDevice(me);
    const request = await people.open(stranger, 'direct', [me]);
    expect(
      (
        await api(
          people.inst.url,
          me.token,
          'POST',
          `/conversations/${request}/decline`,
          undefined,
          { proof: thief },
        )
      ).status,
    ).toBe(204);
    expect(
      (
        await api(people.inst.url, me.token, 'PUT', `/blocks/${stranger.userId}`, undefined, {
          proof: thief,
        })
      ).status,
    ).toBe(204);
    expect((await api(people.inst.url, me.token, 'GET', '/blocks')).body).toEqual({
      userIds: [stranger.userId],
    });
  });
});

describe('report and block over the report limit', () => {
  it('when I have spent my reports for the hour, then a report with block still blocks (202); a report without block is 429', async () => {
    const limited = await people.env.start({ RATE_REPORTS_PER_HOUR: '1' });
    const me = await createUser(limited, people.env.mint);
    const spammer = await createUser(limited, people.env.mint);
    const other = await createUser(limited, people.env.mint);
    for (const u of [spammer, other])
      expect(
        (
          await api(limited.url, u.token, 'POST', '/conversations', {
            kind: 'direct',
            memberIds: [me.userId],
          })
        ).status,
      ).toBe(201);
    expect(
      (
        await api(limited.url, me.token, 'POST', '/reports', {
          userId: other.userId,
          reason: 'abuse',
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await api(limited.url, me.token, 'POST', '/reports', {
          userId: other.userId,
          reason: 'abuse',
        })
      ).status,
    ).toBe(429);
    const r = await api(limited.url, me.token, 'POST', '/reports', {
      userId: spammer.userId,
      reason: 'spam',
      block: true,
    });
    expect(r.status).toBe(202);
    expect((await api(limited.url, me.token, 'GET', '/blocks')).body).toEqual({
      userIds: [spammer.userId],
    });
    // over the limit only the report itself is not filed
    expect(
      await people.count(`SELECT count(*)::int AS n FROM chat.reports WHERE reporter_id = $1`, [
        me.userId,
      ]),
    ).toBe(1);
    // and a block still needs a proof
    const other2 = await api(
      limited.url,
      me.token,
      'POST',
      '/reports',
      { userId: other.userId, reason: 'spam', block: true },
      { proof: null },
    );
    expect(other2.status).toBe(403);
  });
});
