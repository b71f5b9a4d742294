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
