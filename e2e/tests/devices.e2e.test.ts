import { randomBytes } from 'node:crypto';
import { generateLocalIdentity, generateSignedPreKey } from '@cipherchat/client';
import { describe, expect } from 'vitest';
import { serverQuery, userIdOf } from './support/database.js';
import { BASE_URL, chattingPair, seeMessage, send, shot, test as it } from './support/harness.js';

/**
 * A hostile server adds a device to Alice's account whose identity key is not hers (a "ghost").
 * The server here is the test writing chat-service's tables directly (support/database.ts).
 */

/**
 * Plants a keyed device for a user under a new identity key (its signed prekey validly signed
 * by that key), replacing the account's identity key as chat-service serves it.
 * @param userId the victim
 * @returns the ghost's device id
 */
async function plantGhost(userId: string): Promise<number> {
  const identity = await generateLocalIdentity();
  const signed = await generateSignedPreKey(identity.identityKeyPair, 77);
  const acc = await serverQuery<{ id: number }>(
    `UPDATE chat.accounts SET next_device_id = next_device_id + 1, identity_key = $2 WHERE user_id = $1 RETURNING next_device_id - 1 AS id`,
    [userId, Buffer.from(identity.identityKeyPair.pubKey)],
  );
  const deviceId = acc[0]?.id;
  if (deviceId === undefined) throw new Error('no chat account');
  await serverQuery(
    `INSERT INTO chat.devices (user_id, device_id, name, registration_id, signed_prekey_id, signed_prekey, signed_prekey_signature, secret_digest, keys_updated_at)
     VALUES ($1, $2, '', $3, $4, $5, $6, $7, now())`,
    [
      userId,
      deviceId,
      identity.registrationId,
      signed.keyId,
      Buffer.from(signed.keyPair.pubKey),
      Buffer.from(signed.signature),
      randomBytes(32),
    ],
  );
  return deviceId;
}

describe('a device on my account that is not mine', () => {
  it('when the server adds a ghost device to Alice\'s account, then her message is held behind a plain banner, nothing is stored for the ghost or for Bob, and one click on "Remove it" delivers it', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Hello Bob', 'Hi Alice');
    const aliceId = await userIdOf(alice.username);
    const stored = async () =>
      (
        await serverQuery<{ n: number }>(
          `SELECT count(*)::int AS n FROM chat.messages WHERE sender_user = $1`,
          [aliceId],
        )
      )[0]?.n;
    const ghost = await plantGhost(aliceId);
    const before = await stored();

    await send(alice.page, 'Only for Bob');
    const banner = alice.page.locator('.device-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain(
      'It did not come from you and cannot read your messages; sending is paused until you remove it.',
    );
    await shot(alice.page, 'devices-foreign-banner');

    // Nothing went out: no envelope for the ghost, and the message was not stored for Bob either.
    const forGhost = await serverQuery(
      `SELECT 1 FROM chat.mailbox WHERE recipient_user = $1 AND recipient_device = $2`,
      [aliceId, ghost],
    );
    expect(forGhost).toEqual([]);
    // (receipts and typing fail the same way: nothing of Alice's was stored since the ghost came)
    expect(await stored()).toBe(before);
    expect(await bob.page.locator('li.message-in', { hasText: 'Only for Bob' }).count()).toBe(0);

    await banner.getByRole('button', { name: 'Remove it' }).click();
    await seeMessage(bob.page, 'Only for Bob');
    await banner.waitFor({ state: 'detached' });
    const left = await serverQuery(
      `SELECT 1 FROM chat.devices WHERE user_id = $1 AND device_id = $2`,
      [aliceId, ghost],
    );
    expect(left).toEqual([]);
  });

  it("when a session cookie stolen right after her login registers a ghost device through the API, then Alice's browser sends it nothing and says so", async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Hello Bob', 'Hi Alice');
    const aliceId = await userIdOf(alice.username);
    // Alice's cookies, outside her app: the thief's requests. Within minutes of a password login
    // chat-service cannot tell the thief from Alice (later it answers fresh_login_required).
    const thief = alice.context.request;
    const created = await thief.post(`${BASE_URL}/api/chat/devices`, {
      data: {},
      headers: { origin: BASE_URL },
    });
    expect(created.status()).toBe(201);
    const ghost = (await created.json()) as { deviceId: number; deviceSecret: string };
    const identity = await generateLocalIdentity();
    const signed = await generateSignedPreKey(identity.identityKeyPair, 5);
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    const keys = await thief.put(`${BASE_URL}/api/chat/devices/${ghost.deviceId}/keys`, {
      headers: { origin: BASE_URL, 'x-device-secret': ghost.deviceSecret },
      data: {
        registrationId: Math.min(identity.registrationId, 16380),
        identityKey: b64(identity.identityKeyPair.pubKey),
        signedPreKey: {
          keyId: signed.keyId,
          publicKey: b64(signed.keyPair.pubKey),
          signature: b64(signed.signature),
        },
      },
    });
    expect(keys.status()).toBe(200);

    await send(alice.page, 'Not for the thief');
    const banner = alice.page.locator('.device-banner');
    await banner.waitFor();
    await shot(alice.page, 'devices-stolen-token-ghost');
    const forGhost = await serverQuery(
      `SELECT 1 FROM chat.mailbox WHERE recipient_user = $1 AND recipient_device = $2`,
      [aliceId, ghost.deviceId],
    );
    expect(forGhost).toEqual([]);
    expect(await bob.page.locator('li.message-in', { hasText: 'Not for the thief' }).count()).toBe(
      0,
    );
  });
});
