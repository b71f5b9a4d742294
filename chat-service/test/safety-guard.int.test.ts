import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, deviceSecretOf, type DeviceProof, type TestUser } from './support/harness.js';
import { People } from './support/people.js';

// Issue 15, security review: a stolen access token alone (no device secret) must not lower the
// account's guard. Unblocking, accepting or declining a request and changing the privacy settings
// need proof of one of the account's devices, like removing a device or replacing the backup.

const people = People.use('chatsafeguard');

/** What a thief of the token might send instead of a real proof. */
async function badProofs(me: TestUser): Promise<(DeviceProof | null)[]> {
  const other = await people.user();
  return [
    null, // no headers at all
    { deviceId: me.deviceId, secret: randomBytes(32).toString('base64url') }, // wrong secret
    { deviceId: other.deviceId + 1000, secret: deviceSecretOf(me.userId, me.deviceId) as string }, // not a device of mine
    { deviceId: other.deviceId, secret: deviceSecretOf(other.userId, other.deviceId) as string }, // another user's real device
    { deviceId: 'one', secret: deviceSecretOf(me.userId, me.deviceId) as string },
  ];
}

/** The account's own proof, the way its device sends it. */
const proofOf = (u: TestUser): DeviceProof => ({
  deviceId: u.deviceId,
  secret: deviceSecretOf(u.userId, u.deviceId) as string,
});

/** Every call must be refused with 403 `invalid_device_credentials`. */
async function expectRefused(
  token: string,
  method: string,
  path: string,
  body: unknown,
  proofs: (DeviceProof | null)[],
) {
  for (const proof of proofs) {
    const r = await api(people.inst.url, token, method, path, body, { proof });
    expect(r.status, `${method} ${path} with ${JSON.stringify(proof)}`).toBe(403);
    expect(r.body.error.code).toBe('invalid_device_credentials');
  }
}

const blocked = (me: TestUser, them: TestUser) =>
  people.count(
    `SELECT count(*)::int AS n FROM chat.blocks WHERE blocker_id = $1 AND blocked_id = $2`,
    [me.userId, them.userId],
  );
const privacyRow = async (me: TestUser) =>
  (await people.inst.app.ds.query(
    `SELECT read_receipts, typing, last_seen FROM chat.privacy_settings WHERE user_id = $1`,
    [me.userId],
  )) as unknown[];

describe('a stolen token without a device proof', () => {
  it('when it blocks or unblocks someone, then 403 invalid_device_credentials and the block list is unchanged; with a proof, 204', async () => {
    const me = await people.user();
    const stalker = await people.user();
    const stolen = await people.env.mint.mint(me.userId);
    const proofs = await badProofs(me);
    await expectRefused(stolen, 'PUT', `/blocks/${stalker.userId}`, undefined, proofs);
    expect(await blocked(me, stalker)).toBe(0);
    expect(
      (
        await api(people.inst.url, me.token, 'PUT', `/blocks/${stalker.userId}`, undefined, {
          proof: proofOf(me),
        })
      ).status,
    ).toBe(204);
    expect(await blocked(me, stalker)).toBe(1);
    // the stalker, holding my token, cannot unblock themselves
    await expectRefused(stolen, 'DELETE', `/blocks/${stalker.userId}`, undefined, proofs);
    expect(await blocked(me, stalker)).toBe(1);
    expect(
      (
        await api(people.inst.url, me.token, 'DELETE', `/blocks/${stalker.userId}`, undefined, {
          proof: proofOf(me),
        })
      ).status,
    ).toBe(204);
    expect(await blocked(me, stalker)).toBe(0);
  });

  it('when it accepts or declines a request, then 403 and the request stays a request; with a proof, 204', async () => {
    const me = await people.user();
    const stalker = await people.user();
    const stolen = await people.env.mint.mint(me.userId);
    const proofs = await badProofs(me);
    const first = await people.open(stalker, 'direct', [me]);
    await expectRefused(stolen, 'POST', `/conversations/${first}/accept`, undefined, proofs);
    await expectRefused(stolen, 'POST', `/conversations/${first}/decline`, undefined, proofs);
    expect(await people.myState(me, first)).toBe('request');
    expect(
      (
        await api(people.inst.url, me.token, 'POST', `/conversations/${first}/decline`, undefined, {
          proof: proofOf(me),
        })
      ).status,
    ).toBe(204);
    const group = await people.open(stalker, 'group', [me]);
    await expectRefused(stolen, 'POST', `/conversations/${group}/accept`, undefined, proofs);
    expect(await people.myState(me, group)).toBe('request');
    expect(
      (
        await api(people.inst.url, me.token, 'POST', `/conversations/${group}/accept`, undefined, {
          proof: proofOf(me),
        })
      ).status,
    ).toBe(204);
    expect(await people.myState(me, group)).toBe('accepted');
  });

  it('when it changes the privacy settings, then 403 and the stored settings are unchanged; with a proof, 200', async () => {
    const me = await people.user();
    const stolen = await people.env.mint.mint(me.userId);
    const hidden = { readReceipts: false, typing: false, lastSeen: false };
    const r = await api(people.inst.url, me.token, 'PUT', '/privacy', hidden, {
      proof: proofOf(me),
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual(hidden);
    const before = await privacyRow(me);
    await expectRefused(
      stolen,
      'PUT',
      '/privacy',
      { readReceipts: true, typing: true, lastSeen: true },
      await badProofs(me),
    );
    expect(await privacyRow(me)).toEqual(before);
    expect((await api(people.inst.url, stolen, 'GET', '/privacy')).body).toEqual(hidden);
  });

  it('when a device of the account proves itself, then any of them will do (a second device unblocks)', async () => {
    const me = await people.user(2);
    const them = await people.user();
    const second = me.deviceIds[1] as number;
    const proof = { deviceId: second, secret: deviceSecretOf(me.userId, second) as string };
    expect(
      (await api(people.inst.url, me.token, 'PUT', `/blocks/${them.userId}`, undefined, { proof }))
        .status,
    ).toBe(204);
    expect(
      (
        await api(people.inst.url, me.token, 'DELETE', `/blocks/${them.userId}`, undefined, {
          proof,
        })
      ).status,
    ).toBe(204);
    expect(await blocked(me, them)).toBe(0);
  });
});

// Second attacker review (issue 15): the same token, through the routes that open or widen a
// conversation, or report someone. Reopening a request or a declined chat accepts it; a new
// conversation or an added member is accepted for the one who made it (so once the thief's own
// account accepts, it shares my presence and is no longer a stranger to me); a report can block.
describe('a stolen token without a device proof, on the routes that open, widen or report', () => {
  const conversationsOf = (me: TestUser) =>
    people.count(`SELECT count(*)::int AS n FROM chat.conversation_members WHERE user_id = $1`, [
      me.userId,
    ]);

  it('when it reopens a direct request or a declined one, then 403 and my state stays as it was; with a proof, accepted', async () => {
    const me = await people.user();
    const stalker = await people.user();
    const stolen = await people.env.mint.mint(me.userId);
    const proofs = await badProofs(me);
    const id = await people.open(stalker, 'direct', [me]);
    const reopen = { kind: 'direct', memberIds: [stalker.userId] };
    await expectRefused(stolen, 'POST', '/conversations', reopen, proofs);
    expect(await people.myState(me, id)).toBe('request');
    const declined = await api(people.inst.url, me.token, 'POST', `/conversations/${id}/decline`, undefined, {
      proof: proofOf(me),
    });
    expect(declined.status).toBe(204);
    await expectRefused(stolen, 'POST', '/conversations', reopen, proofs);
    // a declined conversation leaves my list: its state is read where it is kept
    const [row] = (await people.inst.app.ds.query(
      `SELECT state FROM chat.conversation_members WHERE conversation_id = $1 AND user_id = $2`,
      [id, me.userId],
    )) as { state: string }[];
    expect(row?.state).toBe('declined');
    const mine = await api(people.inst.url, me.token, 'POST', '/conversations', reopen, {
      proof: proofOf(me),
    });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ id, myState: 'accepted' });
  });

  it('when it creates a conversation with a stranger or adds one to my group, then 403 and I am in nothing new', async () => {
    const me = await people.user();
    const friend = await people.user();
    const thief = await people.user();
    const stolen = await people.env.mint.mint(me.userId);
    const proofs = await badProofs(me);
    const group = await people.open(me, 'group', [friend]);
    const before = await conversationsOf(me);
    await expectRefused(stolen, 'POST', '/conversations', { kind: 'group', memberIds: [thief.userId] }, proofs);
    await expectRefused(stolen, 'POST', '/conversations', { kind: 'direct', memberIds: [thief.userId] }, proofs);
    await expectRefused(stolen, 'POST', `/conversations/${group}/members`, { userIds: [thief.userId] }, proofs);
    expect(await conversationsOf(me)).toBe(before);
    expect(await conversationsOf(thief)).toBe(0);
    const added = await api(people.inst.url, me.token, 'POST', `/conversations/${group}/members`, { userIds: [thief.userId] }, {
      proof: proofOf(me),
    });
    expect(added.status).toBe(200);
    expect(await conversationsOf(thief)).toBe(1);
  });

  it('when it reports someone and blocks them, then 403 and neither the report nor the block is stored; with a proof, 202 and blocked', async () => {
    const me = await people.user();
    const friend = await people.user();
    const stolen = await people.env.mint.mint(me.userId);
    const id = await people.open(friend, 'direct', [me]);
    const report = { userId: friend.userId, conversationId: id, reason: 'spam', block: true };
    const reports = () =>
      people.count(`SELECT count(*)::int AS n FROM chat.reports WHERE reporter_id = $1`, [me.userId]);
    await expectRefused(stolen, 'POST', '/reports', report, await badProofs(me));
    expect(await blocked(me, friend)).toBe(0);
    expect(await reports()).toBe(0);
    // a report alone changes nothing of mine: the token will do
    const plain = await api(people.inst.url, stolen, 'POST', '/reports', { ...report, block: undefined }, { proof: null });
    expect(plain.status).toBe(202);
    expect(await blocked(me, friend)).toBe(0);
    const both = await api(people.inst.url, me.token, 'POST', '/reports', report, { proof: proofOf(me) });
    expect(both.status).toBe(202);
    expect(await blocked(me, friend)).toBe(1);
  });
});
