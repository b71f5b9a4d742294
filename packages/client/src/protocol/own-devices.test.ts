import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from './bytes.js';
import { DecryptError, ProtocolError } from './errors.js';
import { generateSignedPreKey } from './keys.js';
import { MessageType } from './signal-protocol.js';
import { createTestDevice, type TestDevice } from '../testing/test-device.js';

const ALICE = '11111111-1111-4111-8111-111111111111';

async function aliceWithSecondDevice(): Promise<{ a1: TestDevice; a2: TestDevice }> {
  const a1 = await createTestDevice(ALICE, 1);
  const local = await a1.store.getLocalIdentity();
  const a2 = await createTestDevice(ALICE, 2, { identityKeyPair: local!.identityKeyPair });
  return { a1, a2 };
}

describe('SignalProtocol and my own devices', () => {
  it('when my other device has my identity key, then a session is built and no identity record is kept for myself', async () => {
    const { a1, a2 } = await aliceWithSecondDevice();
    await a1.protocol.processBundle(ALICE, await a2.bundle());
    const c = await a1.protocol.encrypt(ALICE, 2, utf8('sync copy'));
    expect(c.type).toBe(MessageType.PreKeyWhisper);
    expect(fromUtf8(await a2.protocol.decrypt(ALICE, 1, c.type, c.body))).toBe('sync copy');
    // and a Whisper on that session works the other way too
    const back = await a2.protocol.encrypt(ALICE, 1, utf8('back'));
    expect(fromUtf8(await a1.protocol.decrypt(ALICE, 2, back.type, back.body))).toBe('back');
    expect(await a1.store.getIdentity(ALICE)).toBeUndefined();
    expect(await a2.store.getIdentity(ALICE)).toBeUndefined();
    expect(a1.identityChanges).toEqual([]);
  });

  it('when a bundle of "my" device carries another identity key (validly signed), then it is refused as foreign_device and no session or identity is stored', async () => {
    const { a1 } = await aliceWithSecondDevice();
    const ghost = await createTestDevice(ALICE, 7); // the attacker's own identity key
    const err = await a1.protocol.processBundle(ALICE, await ghost.bundle()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('foreign_device');
    expect(await a1.protocol.hasSession(ALICE, 7)).toBe(false);
    expect(await a1.protocol.sessionDevices(ALICE)).toEqual([]);
    expect(await a1.store.getIdentity(ALICE)).toBeUndefined();
    expect(a1.identityChanges).toEqual([]);
    await expect(a1.protocol.encrypt(ALICE, 7, utf8('x'))).rejects.toMatchObject({ code: 'no_session' });
  });

  it('when a bundle carries my identity key but its signed prekey is signed by another key, then it fails invalid_signature', async () => {
    const { a1, a2 } = await aliceWithSecondDevice();
    const other = await createTestDevice(ALICE, 9);
    const otherLocal = await other.store.getLocalIdentity();
    const forged = await generateSignedPreKey(otherLocal!.identityKeyPair, 5);
    const bundle = await a2.bundle();
    const err = await a1.protocol
      .processBundle(ALICE, {
        ...bundle,
        signedPreKey: { keyId: 5, publicKey: forged.keyPair.pubKey, signature: forged.signature },
      })
      .catch((e: unknown) => e);
    expect((err as ProtocolError).code).toBe('invalid_signature');
    expect(await a1.protocol.hasSession(ALICE, 2)).toBe(false);
  });

  it('when a bundle carries a foreign identity key but a signature by my key (a server mixing keys), then it fails invalid_signature', async () => {
    const { a1, a2 } = await aliceWithSecondDevice();
    const ghost = await createTestDevice(ALICE, 7);
    const ghostLocal = await ghost.store.getLocalIdentity();
    const bundle = await a2.bundle();
    const err = await a1.protocol
      .processBundle(ALICE, { ...bundle, identityKey: ghostLocal!.identityKeyPair.pubKey })
      .catch((e: unknown) => e);
    expect((err as ProtocolError).code).toBe('invalid_signature');
  });

  it('when a first message claims to come from my device but under another identity key, then it fails foreign_device, is never decrypted, and raises no identity change', async () => {
    const { a1 } = await aliceWithSecondDevice();
    // The attacker holds its own key and treats Alice as a contact (it builds from her real bundle).
    const ghost = await createTestDevice('33333333-3333-4333-8333-333333333333', 7);
    await ghost.protocol.processBundle(ALICE, await a1.bundle());
    const c = await ghost.protocol.encrypt(ALICE, 1, utf8('I am your other phone'));
    const err = await a1.protocol.decrypt(ALICE, 7, c.type, c.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptError);
    expect((err as DecryptError).code).toBe('foreign_device');
    expect(await a1.store.getIdentity(ALICE)).toBeUndefined();
    expect(a1.identityChanges).toEqual([]);
    expect(await a1.protocol.sessionDevices(ALICE)).toEqual([]);
    expect(await a1.protocol.acceptIdentity(ALICE)).toBe(false);
  });
});
