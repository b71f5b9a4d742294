import { AsyncCurve25519Wrapper } from '@privacyresearch/curve25519-typescript';
import { KeyHelper } from '@privacyresearch/libsignal-protocol-typescript';
import { describe, expect, it } from 'vitest';
import { createTestDevice } from '../testing/test-device.js';
import { randomBytes, toArrayBuffer } from './bytes.js';
import { ProtocolError } from './errors.js';
import { WebCryptoCurve, useWebCryptoCurve } from './x25519.js';

const hex = (s: string): ArrayBuffer => toArrayBuffer(Uint8Array.from(Buffer.from(s, 'hex')));
const toHex = (b: ArrayBuffer): string => Buffer.from(b).toString('hex');

// RFC 7748, section 6.1.
const ALICE_PRIV = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PUB = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const BOB_PRIV = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
const BOB_PUB = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

describe('WebCrypto X25519 for the Signal library', () => {
  const fast = new WebCryptoCurve();
  const donna = new AsyncCurve25519Wrapper();

  it('when this platform runs the tests, then its WebCrypto does X25519 (else the tests below would test the fallback)', async () => {
    expect(await fast.available()).toBe(true);
  });

  it('when given the RFC 7748 keys, then it derives their public keys and their shared secret', async () => {
    expect(toHex((await fast.keyPair(hex(ALICE_PRIV))).pubKey)).toBe(ALICE_PUB);
    expect(toHex((await fast.keyPair(hex(BOB_PRIV))).pubKey)).toBe(BOB_PUB);
    expect(toHex(await fast.sharedSecret(hex(BOB_PUB), hex(ALICE_PRIV)))).toBe(SHARED);
    expect(toHex(await fast.sharedSecret(hex(ALICE_PUB), hex(BOB_PRIV)))).toBe(SHARED);
  });

  it('when given random keys, then key pairs and agreements equal the library asm.js curve25519-donna', async () => {
    for (let i = 0; i < 20; i += 1) {
      const a = toArrayBuffer(randomBytes(32));
      const b = toArrayBuffer(randomBytes(32));
      const [fa, da, fb] = await Promise.all([fast.keyPair(a), donna.keyPair(a.slice(0)), fast.keyPair(b)]);
      expect(toHex(fa.pubKey)).toBe(toHex(da.pubKey));
      expect(toHex(fa.privKey)).toBe(toHex(da.privKey));
      const mine = await fast.sharedSecret(fb.pubKey, fa.privKey);
      expect(toHex(mine)).toBe(toHex(await donna.sharedSecret(fb.pubKey, fa.privKey)));
      expect(toHex(mine)).toBe(toHex(await fast.sharedSecret(fa.pubKey, fb.privKey)));
    }
  });

  it('when the other side sends a low-order public key, then the agreement is refused instead of giving an all-zero secret', async () => {
    const priv = (await fast.keyPair(toArrayBuffer(randomBytes(32)))).privKey;
    for (const low of [new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))]) {
      expect(toHex(await donna.sharedSecret(toArrayBuffer(low), priv))).toBe('0'.repeat(64));
      await expect(fast.sharedSecret(toArrayBuffer(low), priv)).rejects.toThrow();
    }
  });

  it('when the library makes and signs a prekey with it installed, then the signature checks with donna', async () => {
    useWebCryptoCurve();
    const identity = await KeyHelper.generateIdentityKeyPair();
    const signed = await KeyHelper.generateSignedPreKey(identity, 7);
    const raw = (await donna.keyPair(identity.privKey.slice(0))).pubKey;
    expect(toHex(identity.pubKey.slice(1))).toBe(toHex(raw));
    const invalid = await donna.verify(raw, signed.keyPair.pubKey, signed.signature);
    expect(invalid).toBe(false);
  });

  it('when a hostile server hands out a bundle with a low-order one-time prekey, then it is refused as invalid_bundle and no session is built', async () => {
    const alice = await createTestDevice('11111111-1111-4111-8111-111111111111', 1);
    const bob = await createTestDevice('22222222-2222-4222-8222-222222222222', 1);
    const bundle = await bob.bundle();
    const lowOrder = Uint8Array.from({ length: 33 }, (_, i) => (i === 0 ? 5 : 0));
    const err = await alice.protocol
      .processBundle(bob.userId, { ...bundle, preKey: { keyId: bundle.preKey!.keyId, publicKey: lowOrder } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('invalid_bundle');
    expect(await alice.protocol.hasSession(bob.userId, 1)).toBe(false);
  });
});
