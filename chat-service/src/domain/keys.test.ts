import { PrivateKey } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { decodePublicKey, decodeSignature, verifySignedPreKey } from './keys.js';

const pub = (k: PrivateKey) => Buffer.from(k.getPublicKey().serialize());

describe('signed prekey verification (libsignal-client)', () => {
  const identity = PrivateKey.generate();
  const spk = pub(PrivateKey.generate());
  const sig = Buffer.from(identity.sign(spk));

  it('when the identity key signed the prekey, then it verifies', () => {
    expect(verifySignedPreKey(pub(identity), spk, sig)).toBe(true);
  });

  it('when another key signed it, or a bit flipped, then it does not', () => {
    expect(verifySignedPreKey(pub(identity), spk, Buffer.from(PrivateKey.generate().sign(spk)))).toBe(false);
    const flipped = Buffer.from(sig);
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(verifySignedPreKey(pub(identity), spk, flipped)).toBe(false);
  });

  it('when the identity key bytes are not a valid key, then it is refused instead of throwing', () => {
    expect(verifySignedPreKey(Buffer.concat([Buffer.from([6]), Buffer.alloc(32, 0xff)]), spk, sig)).toBe(false);
  });
});

describe('decoding', () => {
  it('when a key is not 33 bytes with the 0x05 type byte, then null', () => {
    expect(decodePublicKey(Buffer.alloc(32, 5).toString('base64'))).toBeNull();
    expect(decodePublicKey(Buffer.alloc(33, 6).toString('base64'))).toBeNull();
    expect(decodePublicKey(Buffer.alloc(33, 5).toString('base64'))).toHaveLength(33);
  });

  it('when a signature is not 64 bytes, then null', () => {
    expect(decodeSignature(Buffer.alloc(63).toString('base64'))).toBeNull();
    expect(decodeSignature(Buffer.alloc(64).toString('base64'))).toHaveLength(64);
  });
});
