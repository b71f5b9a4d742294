import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from './bytes.js';
import { DecryptError, UntrustedIdentityError } from './errors.js';
import { createTestDevice, type TestDevice } from '../testing/test-device.js';
import { MessageType } from './signal-protocol.js';

const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';

async function send(from: TestDevice, to: TestDevice, text: string) {
  if (!(await from.protocol.hasSession(to.userId, to.deviceId))) {
    await from.protocol.processBundle(to.userId, await to.bundle());
  }
  return from.protocol.encrypt(to.userId, to.deviceId, utf8(text));
}

async function receive(at: TestDevice, from: TestDevice, c: { type: number; body: Uint8Array }) {
  return fromUtf8(await at.protocol.decrypt(from.userId, from.deviceId, c.type, c.body));
}

describe('SignalProtocol sessions', () => {
  it('when Alice starts a session with Bob, then messages flow both ways and the first is a PreKeyWhisper', async () => {
    const alice = await createTestDevice(ALICE, 1);
    const bob = await createTestDevice(BOB, 1);
    const first = await send(alice, bob, 'hello bob');
    expect(first.type).toBe(MessageType.PreKeyWhisper);
    expect(await receive(bob, alice, first)).toBe('hello bob');
    const reply = await send(bob, alice, 'hi alice');
    expect(reply.type).toBe(MessageType.Whisper);
    expect(await receive(alice, bob, reply)).toBe('hi alice');
    // Several in a row in each direction, delivered out of order on one side.
    const a1 = await send(alice, bob, 'a1');
    const a2 = await send(alice, bob, 'a2');
    expect(a1.type).toBe(MessageType.Whisper);
    expect(await receive(bob, alice, a2)).toBe('a2');
    expect(await receive(bob, alice, a1)).toBe('a1');
    const b1 = await send(bob, alice, 'b1');
    expect(await receive(alice, bob, b1)).toBe('b1');
    // The one-time prekey used by the first message is gone from Bob's store.
    expect(await bob.store.listPreKeyIds()).toEqual([2, 3, 4, 5]);
  });

  it('when many messages are encrypted concurrently for one device, then all decrypt', async () => {
    // The library's own SessionLock already serialises encrypt; this guards the ratchet, not
    // our queue (see the race below for that).
    const alice = await createTestDevice(ALICE, 1);
    const bob = await createTestDevice(BOB, 1);
    await receive(bob, alice, await send(alice, bob, 'start'));
    const texts = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const cts = await Promise.all(texts.map((t) => alice.protocol.encrypt(BOB, 1, utf8(t))));
    const out = await Promise.all(cts.map((c) => receive(bob, alice, c)));
    expect(out).toEqual(texts);
  });

  it('when a first message and a bundle under another identity key race for one address, then the message commits its identity first and the bundle is refused as a change (per-address queue)', async () => {
    const alice = await createTestDevice(ALICE, 1);
    // What a malicious server could serve for Alice's device: same address, another identity.
    const impostor = await createTestDevice(ALICE, 1);
    const bob = await createTestDevice(BOB, 1);
    const first = await send(alice, bob, 'first');
    const forged = await impostor.bundle();
    // Not awaited one by one: the identity check of processBundle must not run while the
    // decryption (whose identity write is deferred until the MAC checked) is still in flight.
    const [decrypted, bundled] = await Promise.allSettled([
      receive(bob, alice, first),
      bob.protocol.processBundle(ALICE, forged),
    ]);
    expect(decrypted).toEqual({ status: 'fulfilled', value: 'first' });
    expect(bundled.status).toBe('rejected');
    expect((bundled as PromiseRejectedResult).reason).toBeInstanceOf(UntrustedIdentityError);
    const aliceKey = (await alice.store.getLocalIdentity())!.identityKeyPair.pubKey;
    const record = await bob.store.getIdentity(ALICE);
    expect(record?.status).toBe('untrusted');
    expect(record?.publicKey).toEqual(forged.identityKey);
    expect(record?.previousKey).toEqual(aliceKey);
    expect(bob.identityChanges).toHaveLength(1);
  });

  it('when Bob has two devices sharing one identity, then each has its own session', async () => {
    const alice = await createTestDevice(ALICE, 1);
    const bob1 = await createTestDevice(BOB, 1);
    const bobLocal = await bob1.store.getLocalIdentity();
    const bob2 = await createTestDevice(BOB, 2, { identityKeyPair: bobLocal!.identityKeyPair });
    expect(await receive(bob1, alice, await send(alice, bob1, 'to 1'))).toBe('to 1');
    expect(await receive(bob2, alice, await send(alice, bob2, 'to 2'))).toBe('to 2');
    expect(await alice.protocol.sessionDevices(BOB)).toEqual([1, 2]);
    // Bob's devices talk to each other too (sync copies).
    expect(await receive(bob2, bob1, await send(bob1, bob2, 'sync'))).toBe('sync');
  });
});

describe('SignalProtocol tampering', () => {
  async function established() {
    const alice = await createTestDevice(ALICE, 1);
    const bob1 = await createTestDevice(BOB, 1);
    const bobLocal = await bob1.store.getLocalIdentity();
    const bob2 = await createTestDevice(BOB, 2, { identityKeyPair: bobLocal!.identityKeyPair });
    await receive(bob1, alice, await send(alice, bob1, 'setup'));
    await receive(alice, bob1, await send(bob1, alice, 'setup reply'));
    return { alice, bob1, bob2 };
  }

  it('when one bit of a Whisper body is flipped, then decrypt fails cleanly and the session still works', async () => {
    const { alice, bob1 } = await established();
    const c = await send(alice, bob1, 'secret');
    for (const index of [5, Math.floor(c.body.length / 2), c.body.length - 1]) {
      const tampered = { type: c.type, body: c.body.slice() };
      tampered.body[index] = (tampered.body[index] ?? 0) ^ 0x01;
      await expect(receive(bob1, alice, tampered)).rejects.toBeInstanceOf(DecryptError);
    }
    expect(await receive(bob1, alice, c)).toBe('secret');
    expect(await receive(alice, bob1, await send(bob1, alice, 'still fine'))).toBe('still fine');
  });

  it('when one bit of a PreKeyWhisper body is flipped, then decrypt fails cleanly and the original still decrypts', async () => {
    const alice = await createTestDevice(ALICE, 1);
    const bob = await createTestDevice(BOB, 1);
    const c = await send(alice, bob, 'first');
    expect(c.type).toBe(MessageType.PreKeyWhisper);
    const tampered = c.body.slice();
    tampered[tampered.length - 3] = (tampered[tampered.length - 3] ?? 0) ^ 0x80;
    await expect(receive(bob, alice, { type: c.type, body: tampered })).rejects.toBeInstanceOf(DecryptError);
    expect(await bob.store.getIdentity(ALICE)).toBeUndefined();
    expect(await receive(bob, alice, c)).toBe('first');
  });

  it('when an envelope is replayed, then the second decrypt fails as a duplicate and the session still works', async () => {
    const { alice, bob1 } = await established();
    const c = await send(alice, bob1, 'once');
    expect(await receive(bob1, alice, c)).toBe('once');
    const err = await receive(bob1, alice, c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptError);
    expect((err as DecryptError).code).toBe('duplicate_message');
    expect(await receive(bob1, alice, await send(alice, bob1, 'next'))).toBe('next');
  });

  it('when a first (PreKeyWhisper) envelope is replayed, then the replay fails and the session still works', async () => {
    const alice = await createTestDevice(ALICE, 1);
    const bob = await createTestDevice(BOB, 1);
    const c = await send(alice, bob, 'first');
    expect(await receive(bob, alice, c)).toBe('first');
    await expect(receive(bob, alice, c)).rejects.toBeInstanceOf(DecryptError);
    expect(await receive(bob, alice, await send(alice, bob, 'second'))).toBe('second');
    expect(await receive(alice, bob, await send(bob, alice, 'back'))).toBe('back');
  });

  it('when an envelope for Bob device 1 is re-addressed to device 2, then device 2 refuses it and both sessions still work', async () => {
    const { alice, bob1, bob2 } = await established();
    await receive(bob2, alice, await send(alice, bob2, 'hello 2'));
    const forOne = await send(alice, bob1, 'for device 1 only');
    await expect(receive(bob2, alice, forOne)).rejects.toBeInstanceOf(DecryptError);
    expect(await receive(bob1, alice, forOne)).toBe('for device 1 only');
    expect(await receive(bob2, alice, await send(alice, bob2, 'still 2'))).toBe('still 2');
    // A first message (PreKeyWhisper) re-addressed likewise.
    const carol = await createTestDevice('33333333-3333-4333-8333-333333333333', 1);
    const pre = await send(carol, bob1, 'carol to 1');
    await expect(receive(bob2, carol, pre)).rejects.toBeInstanceOf(DecryptError);
    expect(await receive(bob1, carol, pre)).toBe('carol to 1');
  });

  it('when a message claims another sender, then it fails (the session authenticates the sender)', async () => {
    const { alice, bob1 } = await established();
    const mallory = await createTestDevice('44444444-4444-4444-8444-444444444444', 1);
    await receive(bob1, mallory, await send(mallory, bob1, 'hi'));
    const fromAlice = await send(alice, bob1, 'from alice');
    await expect(bob1.protocol.decrypt(mallory.userId, 1, fromAlice.type, fromAlice.body)).rejects.toBeInstanceOf(
      DecryptError,
    );
    expect(await receive(bob1, alice, fromAlice)).toBe('from alice');
  });

  it('when garbage or an unknown type arrives, then decrypt fails with DecryptError', async () => {
    const { alice, bob1 } = await established();
    await expect(bob1.protocol.decrypt(ALICE, 1, 1, new Uint8Array([1, 2, 3]))).rejects.toBeInstanceOf(DecryptError);
    await expect(bob1.protocol.decrypt(ALICE, 1, 3, new Uint8Array(40))).rejects.toBeInstanceOf(DecryptError);
    await expect(bob1.protocol.decrypt(ALICE, 1, 7, new Uint8Array(40))).rejects.toBeInstanceOf(DecryptError);
    expect(await receive(bob1, alice, await send(alice, bob1, 'ok'))).toBe('ok');
  });
});

describe('SignalProtocol identity changes', () => {
  it('when a bundle arrives with a new identity key, then sending is blocked until the change is accepted', async () => {
    const alice = await createTestDevice(ALICE, 1);
    const bob = await createTestDevice(BOB, 1);
    await receive(bob, alice, await send(alice, bob, 'before'));
    const bobNew = await createTestDevice(BOB, 1); // Bob reinstalled: new identity key
    const err = await alice.protocol.processBundle(BOB, await bobNew.bundle()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UntrustedIdentityError);
    expect(alice.identityChanges).toHaveLength(1);
    // The old session is blocked too: no sending to Bob at all until accepted.
    await expect(alice.protocol.encrypt(BOB, 1, utf8('blocked'))).rejects.toBeInstanceOf(UntrustedIdentityError);
    expect(await alice.protocol.acceptIdentity(BOB)).toBe(true);
    expect(await alice.protocol.hasSession(BOB, 1)).toBe(false);
    const c = await send(alice, bobNew, 'after accept');
    expect(await receive(bobNew, alice, c)).toBe('after accept');
  });

  it('when a first message comes from an untrusted identity key, then it is refused (patched processV3) until accepted', async () => {
    const alice = await createTestDevice(ALICE, 1);
    const bob = await createTestDevice(BOB, 1);
    await receive(bob, alice, await send(alice, bob, 'hello'));
    // Alice's account gets a brand new identity (new install without backup) and writes to Bob.
    const alice2 = await createTestDevice(ALICE, 2);
    const first = await send(alice2, bob, 'new me');
    expect(first.type).toBe(MessageType.PreKeyWhisper);
    const err = await receive(bob, alice2, first).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UntrustedIdentityError);
    // Nothing was stored for the refused session.
    expect(await bob.protocol.hasSession(ALICE, 2)).toBe(false);
    const record = await bob.store.getIdentity(ALICE);
    expect(record?.status).toBe('untrusted');
    expect(bob.identityChanges).toHaveLength(1);
    await expect(bob.protocol.encrypt(ALICE, 1, utf8('x'))).rejects.toBeInstanceOf(UntrustedIdentityError);
    await bob.protocol.acceptIdentity(ALICE);
    expect(await receive(bob, alice2, first)).toBe('new me');
  });

  it('when a forged first message offers a new identity key, then it is refused without raising an identity change', async () => {
    const alice = await createTestDevice(ALICE, 1);
    const bob = await createTestDevice(BOB, 1);
    await receive(bob, alice, await send(alice, bob, 'hello'));
    const mallory = await createTestDevice(ALICE, 3);
    const forged = await send(mallory, bob, 'I am alice');
    const tampered = forged.body.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    await expect(receive(bob, mallory, { type: forged.type, body: tampered })).rejects.toBeInstanceOf(DecryptError);
    expect((await bob.store.getIdentity(ALICE))?.status).toBe('trusted');
    expect(bob.identityChanges).toHaveLength(0);
  });
});
