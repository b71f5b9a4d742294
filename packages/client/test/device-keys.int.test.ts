import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import { PREKEY_BATCH, PREKEY_REFILL_THRESHOLD, SIGNED_PREKEY_MAX_AGE_MS } from '../src/protocol/keys.js';
import { PreKeyCountResult, type KeyBundleResult } from '@cipherchat/contracts';
import { account, startStack, type Stack } from './support/stack.js';

/** One-time prekey refill and signed prekey rotation against the real chat-service. */

let stack: Stack;
beforeAll(async () => {
  // These tests drain one device from one account and watch the client's own refill: lift the
  // per-pair limits and the server's `prekeys:low` push (test/prekey-attack.int.test.ts has those).
  stack = await startStack({
    RATE_PREKEY_PER_PAIR: '100000',
    PREKEY_ONE_TIME_PER_PAIR_PER_HOUR: '100000',
    RATE_PREKEY_PER_TARGET: '100000',
    PREKEY_LOW_THRESHOLD: '0',
  });
});
afterAll(async () => {
  await stack?.close();
});

async function signUp(tag: string, connect = true): Promise<ChatClient> {
  const client = stack.client(tag);
  await client.signUp({ ...account(tag), connect });
  return client;
}

/** What chat-service says this device still holds (`GET /devices/:id/keys/count`, as that device). */
async function preKeyCount(client: ChatClient): Promise<number> {
  const deviceId = await client.deviceId();
  // The route acts as one device: it takes the device's secret from registration when it has one.
  const secret = await client.store.getMeta('deviceSecret');
  const res = await fetch(`${stack.chatUrl}/api/chat/devices/${deviceId}/keys/count`, {
    headers: {
      authorization: `Bearer ${client.tokens()?.accessToken ?? ''}`,
      'x-client': 'sdk',
      ...(typeof secret === 'string' ? { 'x-device-secret': secret } : {}),
    },
  });
  expect(res.status).toBe(200);
  return PreKeyCountResult.parse(await res.json()).count;
}

/** One bundle fetch, as any sender does before a first message (consumes one one-time prekey). */
function fetchBundle(by: ChatClient, userId: string): Promise<KeyBundleResult> {
  return by.api.chat.keyBundle(userId);
}

/** Resolves when the client's next `PUT /devices/:id/keys` (a key upload) has been answered. */
function nextKeyUpload(client: ChatClient): Promise<{ preKeys: number; signedPreKeyId: number }> {
  const original = client.api.request.bind(client.api);
  return new Promise((resolve, reject) => {
    const spy = vi.spyOn(client.api, 'request').mockImplementation((async (...args: Parameters<typeof original>) => {
      const [, method, path, options] = args;
      const result = await original(...args);
      if (method === 'PUT' && /^\/devices\/\d+\/keys$/.test(path)) {
        spy.mockRestore();
        const body = options?.json as { preKeys: unknown[]; signedPreKey: { keyId: number } };
        resolve({ preKeys: body.preKeys.length, signedPreKeyId: body.signedPreKey.keyId });
      }
      return result;
    }) as typeof original);
    setTimeout(() => reject(new Error('no key upload within 20 s')), 20_000).unref();
  });
}

describe('one-time prekeys', () => {
  it('when senders drain a device below the refill threshold, then its next incoming first message refills the server to a full batch and new sessions keep working', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob', false);
    expect(await preKeyCount(alice)).toBe(PREKEY_BATCH);

    const drained = PREKEY_BATCH - PREKEY_REFILL_THRESHOLD + 1;
    const handedOut = new Set<number>();
    for (let i = 0; i < drained; i += 1) {
      const keyId = (await fetchBundle(bob, alice.user.id)).devices[0]?.preKey?.keyId;
      expect(keyId).toBeDefined();
      handedOut.add(keyId!);
    }
    expect(handedOut.size).toBe(drained); // every fetch consumed a different one-time prekey
    expect(await preKeyCount(alice)).toBe(PREKEY_REFILL_THRESHOLD - 1);

    // Carol's first message (PreKeyWhisper) makes Alice check her keys: below 10, so she refills.
    const carol = await signUp('carol');
    const refill = nextKeyUpload(alice);
    const conv = await carol.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    const got = alice.next('message', (m) => m.text === 'first from carol');
    await carol.sendText(conv.id, 'first from carol');
    await got;
    expect((await refill).preKeys).toBe(PREKEY_BATCH);
    expect(await preKeyCount(alice)).toBeGreaterThanOrEqual(PREKEY_BATCH);

    // The refilled keys are new ids (no reuse of handed-out ones) and sessions built on them work.
    const fresh = await fetchBundle(bob, alice.user.id);
    expect(handedOut.has(fresh.devices[0]!.preKey!.keyId)).toBe(false);
    const dave = await signUp('dave');
    const daveConv = await dave.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    const fromDave = alice.next('message', (m) => m.text === 'hello after refill');
    await dave.sendText(daveConv.id, 'hello after refill');
    await fromDave;
  });
});

describe('concurrent device set-up', () => {
  it('when several refills run at once below the threshold, then the server holds exactly the public halves of the prekeys this device keeps', async () => {
    const alice = await signUp('hana', false);
    const bob = await signUp('ivan', false);
    for (let i = 0; i < PREKEY_BATCH - PREKEY_REFILL_THRESHOLD + 1; i += 1) await fetchBundle(bob, alice.user.id);
    // A login, the maintenance timer and incoming first messages can all ask at the same moment.
    await Promise.all([alice.setupDevice(), alice.setupDevice(), alice.setupDevice()]);
    const deviceId = (await alice.deviceId())!;
    const rows = (await stack.chatApp.ds.query(
      `SELECT key_id, public_key FROM chat.one_time_prekeys WHERE user_id = $1 AND device_id = $2`,
      [alice.user.id, deviceId],
    )) as { key_id: number; public_key: Buffer }[];
    expect(rows.length).toBe(PREKEY_REFILL_THRESHOLD - 1 + PREKEY_BATCH); // one refill, not three
    for (const row of rows) {
      const local = await alice.store.getPreKey(row.key_id);
      expect(local, `prekey ${row.key_id}`).toBeDefined();
      expect(Buffer.from(local!.keyPair.pubKey).equals(row.public_key), `prekey ${row.key_id}`).toBe(true);
    }
  });
});

describe('signed prekey rotation', () => {
  it('when the signed prekey is older than the rotation period, then a new one is uploaded and served while old and new sessions keep working', async () => {
    const alice = await signUp('erin');
    const bob = await signUp('frank');
    const conv = await bob.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    const before = alice.next('message', (m) => m.text === 'before rotation');
    await bob.sendText(conv.id, 'before rotation');
    await before;
    const old = (await alice.store.listSignedPreKeys()).at(-1)!;
    expect((await fetchBundle(bob, alice.user.id)).devices[0]?.signedPreKey.keyId).toBe(old.keyId);
    // Gina builds her session now, on the old signed prekey, but sends only after the rotation.
    const gina = await signUp('gina');
    const ginaConv = await gina.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    await gina.safetyNumber(alice.user.id);
    expect(await gina.protocol.sessionDevices(alice.user.id)).toEqual([await alice.deviceId()]);

    // Age it past the rotation period (as if the device had been running for days).
    await alice.store.putSignedPreKey({ ...old, createdAt: Date.now() - SIGNED_PREKEY_MAX_AGE_MS - 60_000 });
    const upload = nextKeyUpload(alice);
    await alice.setupDevice();
    const rotated = await upload;
    expect(rotated.signedPreKeyId).not.toBe(old.keyId);
    expect(rotated.preKeys).toBe(0); // the one-time prekeys did not need a refill
    // The old private key stays for the grace period: first messages built on it may be in flight.
    expect((await alice.store.listSignedPreKeys()).map((k) => k.keyId)).toEqual([old.keyId, rotated.signedPreKeyId]);

    // chat-service now serves the new signed prekey (the client verifies its signature).
    const harry = await signUp('harry');
    expect((await fetchBundle(harry, alice.user.id)).devices[0]?.signedPreKey.keyId).toBe(rotated.signedPreKeyId);
    const harryConv = await harry.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    const fromHarry = alice.next('message', (m) => m.text === 'on the new signed prekey');
    await harry.sendText(harryConv.id, 'on the new signed prekey');
    await fromHarry;
    // The existing session and the one built on the old signed prekey still work.
    const after = alice.next('message', (m) => m.text === 'after rotation');
    await bob.sendText(conv.id, 'after rotation');
    await after;
    const fromGina = alice.next('message', (m) => m.text === 'built before the rotation');
    await gina.sendText(ginaConv.id, 'built before the rotation');
    await fromGina;
    // And Alice answers on her session with Bob.
    const reply = bob.next('message', (m) => m.text === 'reply after rotation');
    await alice.sendText(conv.id, 'reply after rotation');
    await reply;
  });
});
