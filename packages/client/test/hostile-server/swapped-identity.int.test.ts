import { describe, expect, it } from 'vitest';
import { generateSignedPreKey } from '../../src/protocol/keys.js';
import { account, messageWith } from '../support/stack.js';
import { hostileEnv, plantGhostDevice } from './hostile-db.js';

const env = hostileEnv();

describe("hostile server: Bob's identity key swapped in the database", () => {
  it("when the server replaces Bob's identity key (with valid new bundles), then Alice gets identityChanged and nothing is encrypted for the new key until she accepts it", async () => {
    const alice = env.stack.client('alice laptop');
    const bob = env.stack.client('bob phone');
    await alice.signUp(account('alice'));
    await bob.signUp(account('bob'));
    const conv = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    const first = messageWith(bob, 'before the swap');
    await alice.sendText(conv.id, 'before the swap');
    const got = await first;
    const bobDevice = (await bob.deviceId()) as number;
    // Bob's own key maintenance after that first message would put his real key back: let it
    // finish, and keep him offline (his mailbox is what we look at). His receiver starts it just
    // after the message's ack; the same envelope again (a duplicate, handled in the same queue)
    // returns only once that start was made, so setupDevice then waits behind it.
    bob.disconnect();
    await bob.receive({
      messageId: got.serverMessageId!,
      conversationId: conv.id,
      senderUserId: alice.user.id,
      senderDeviceId: got.senderDeviceId,
      type: 1,
      body: '',
      serverTimestamp: got.serverTimestamp!,
    });
    await bob.setupDevice();

    // The server: a new identity for Bob, his real device re-signed under it, plus a new device.
    const ghost = await plantGhostDevice(env.db, bob.user.id);
    const resigned = await generateSignedPreKey(ghost.identityKeyPair, 900);
    await env.db.query(
      `UPDATE chat.devices SET signed_prekey_id = $3, signed_prekey = $4, signed_prekey_signature = $5 WHERE user_id = $1 AND device_id = $2`,
      [
        bob.user.id,
        bobDevice,
        resigned.keyId,
        Buffer.from(resigned.keyPair.pubKey),
        Buffer.from(resigned.signature),
      ],
    );
    await env.db.query(`DELETE FROM chat.one_time_prekeys WHERE user_id = $1 AND device_id = $2`, [
      bob.user.id,
      bobDevice,
    ]);

    const mailbox = async () =>
      (
        await env.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`,
          [bob.user.id],
        )
      )[0]?.n;
    const before = await mailbox();
    const changed = alice.next('identityChanged', (c) => c.userId === bob.user.id);
    const err = await alice.sendText(conv.id, 'after the swap').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'untrusted_identity' });
    await changed;
    expect(await alice.identityStatus(bob.user.id)).toBe('untrusted');
    // A second try is refused at once too: still nothing for anyone.
    await expect(alice.sendText(conv.id, 'still blocked')).rejects.toMatchObject({
      code: 'untrusted_identity',
    });
    expect(await mailbox()).toBe(before);
    const history = await alice.history(conv.id);
    expect(history.filter((m) => m.status === 'failed').map((m) => m.failure?.code)).toEqual([
      'untrusted_identity',
      'untrusted_identity',
    ]);

    // Accepting is the user's decision: only then does a message go to the new key's devices.
    await alice.acceptIdentity(bob.user.id);
    const sent = await alice.sendText(conv.id, 'after accepting');
    const after = await env.db.query<{ recipient_device: number }>(
      `SELECT recipient_device FROM chat.mailbox WHERE recipient_user = $1 AND message_id = $2 ORDER BY recipient_device`,
      [bob.user.id, sent.serverMessageId],
    );
    expect(after.map((r) => r.recipient_device)).toEqual([bobDevice, ghost.deviceId]);
  });
});
