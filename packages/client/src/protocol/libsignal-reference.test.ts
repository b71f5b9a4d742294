import { MessageSendPayload, UploadKeysBody } from '@cipherchat/contracts';
import { Fingerprint, PublicKey } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64, utf8 } from './bytes.js';
import { compareScannableFingerprint, computeSafetyNumber } from './fingerprint.js';
import { generateLocalIdentity, generatePreKeys, generateSignedPreKey, toKeyUpload } from './keys.js';

/** Independent checks against Signal's official libsignal-client (Rust, via Node bindings). */
describe('interoperability with @signalapp/libsignal-client', () => {
  it('when our client signs a signed prekey, then libsignal verifies the signature over the 33-byte key', async () => {
    const identity = await generateLocalIdentity();
    const spk = await generateSignedPreKey(identity.identityKeyPair, 7);
    const upload = toKeyUpload(identity, spk, await generatePreKeys(1, 3));
    const identityKey = fromBase64(upload.identityKey);
    const spkPublic = fromBase64(upload.signedPreKey.publicKey);
    const signature = fromBase64(upload.signedPreKey.signature);
    // Formats chat-service expects: 33-byte keys with the 0x05 type byte, 64-byte signatures.
    expect(identityKey).toHaveLength(33);
    expect(identityKey[0]).toBe(5);
    expect(spkPublic).toHaveLength(33);
    expect(signature).toHaveLength(64);
    for (const p of upload.preKeys) expect(fromBase64(p.publicKey)).toHaveLength(33);

    const key = PublicKey.deserialize(identityKey);
    expect(key.verify(spkPublic, signature)).toBe(true);
    // A forged signature (or one over another key) does not verify.
    const forged = signature.slice();
    forged[10] = (forged[10] ?? 0) ^ 1;
    expect(key.verify(spkPublic, forged)).toBe(false);
    const other = await generateSignedPreKey(identity.identityKeyPair, 8);
    expect(key.verify(other.keyPair.pubKey as Uint8Array<ArrayBuffer>, signature)).toBe(false);
    // libsignal serialises the key exactly as we do.
    expect(toBase64(key.serialize())).toBe(upload.identityKey);
    // And the upload is exactly what chat-service's contract accepts.
    expect(UploadKeysBody.parse(upload)).toEqual(upload);
  });

  it.each([
    ['ASCII user ids', '0c2f7a4e-1b2d-4f3a-9c8d-111111111111', '7d1e2f3a-4b5c-4d6e-8f70-222222222222'],
    ['non-ASCII identifiers', 'zoë@example.org', 'łukasz-🔐'],
  ])('when computing a safety number for %s, then it equals libsignal Fingerprint (5200 iterations)', async (_, aliceId, bobId) => {
    const alice = await generateLocalIdentity();
    const bob = await generateLocalIdentity();
    const ours = await computeSafetyNumber(aliceId, alice.identityKeyPair.pubKey, bobId, bob.identityKeyPair.pubKey);
    const reference = Fingerprint.new(
      5200,
      2,
      utf8(aliceId),
      PublicKey.deserialize(alice.identityKeyPair.pubKey as Uint8Array<ArrayBuffer>),
      utf8(bobId),
      PublicKey.deserialize(bob.identityKeyPair.pubKey as Uint8Array<ArrayBuffer>),
    );
    expect(ours.digits).toMatch(/^\d{60}$/);
    expect(ours.digits).toBe(reference.displayableFingerprint().toString());
    // The QR payload is byte-identical to libsignal's scannable fingerprint (version 2).
    expect(ours.qrPayload).toBe(toBase64(reference.scannableFingerprint().toBuffer()));

    // Bob computes the same digits from his side; the QR payloads match crosswise.
    const theirs = await computeSafetyNumber(bobId, bob.identityKeyPair.pubKey, aliceId, alice.identityKeyPair.pubKey);
    expect(theirs.digits).toBe(ours.digits);
    expect(compareScannableFingerprint(ours.qrPayload, theirs.qrPayload)).toBe(true);
    const mallory = await generateLocalIdentity();
    const fake = await computeSafetyNumber(bobId, mallory.identityKeyPair.pubKey, aliceId, alice.identityKeyPair.pubKey);
    expect(compareScannableFingerprint(ours.qrPayload, fake.qrPayload)).toBe(false);
    expect(fake.digits).not.toBe(ours.digits);
  });

  it('when a message is fanned out, then the socket payload matches the chat-service contract', async () => {
    const { createTestDevice } = await import('../testing/test-device.js');
    const bobId = '7d1e2f3a-4b5c-4d6e-8f70-222222222222';
    const alice = await createTestDevice('0c2f7a4e-1b2d-4f3a-9c8d-111111111111', 1);
    const bob = await createTestDevice(bobId, 1);
    await alice.protocol.processBundle(bobId, await bob.bundle());
    const c = await alice.protocol.encrypt(bobId, 1, utf8('x'));
    const payload = {
      conversationId: crypto.randomUUID(),
      clientMessageId: crypto.randomUUID(),
      envelopes: [{ userId: bobId, deviceId: 1, type: c.type, body: toBase64(c.body) }],
    };
    expect(MessageSendPayload.parse(payload)).toEqual(payload);
  });
});
