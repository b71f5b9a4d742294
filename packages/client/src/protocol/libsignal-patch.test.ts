import { Direction, SessionCipher, SignalProtocolAddress } from '@privacyresearch/libsignal-protocol-typescript';
import { describe, expect, it } from 'vitest';
import { toArrayBuffer, utf8 } from './bytes.js';
import { createTestDevice } from '../testing/test-device.js';
import { SignalStoreAdapter } from './signal-store.adapter.js';

/**
 * Regression test for the patch in patches/@privacyresearch+libsignal-protocol-typescript+0.0.16.patch:
 * upstream `SessionBuilder.processV3` tested the Promise returned by `isTrustedIdentity`
 * (always truthy), so a first message under an untrusted identity key was accepted.
 */
describe('patched libsignal-protocol-typescript processV3', () => {
  it('when the store says the identity is not trusted, then a PreKeyWhisperMessage is refused and no session is stored', async () => {
    const alice = await createTestDevice('alice', 1);
    const bob = await createTestDevice('bob', 1);
    await alice.protocol.processBundle('bob', await bob.bundle());
    const first = await alice.protocol.encrypt('bob', 1, utf8('hello'));
    expect(first.type).toBe(3);

    const asked: Direction[] = [];
    const distrusting = new SignalStoreAdapter(bob.store);
    distrusting.isTrustedIdentity = async (_id, _key, direction) => {
      asked.push(direction);
      return false;
    };
    const cipher = new SessionCipher(distrusting, new SignalProtocolAddress('alice', 1));
    await expect(cipher.decryptPreKeyWhisperMessage(toArrayBuffer(first.body), 'binary')).rejects.toThrow(
      /unknown identity key/i,
    );
    expect(asked).toContain(Direction.RECEIVING);
    expect(await bob.store.getSession('alice.1')).toBeUndefined();
    expect(await bob.store.listPreKeyIds()).toEqual([1, 2, 3, 4, 5]); // no one-time prekey consumed

    // The same message decrypts once the identity is trusted.
    const trusting = new SessionCipher(new SignalStoreAdapter(bob.store), new SignalProtocolAddress('alice', 1));
    const plain = await trusting.decryptPreKeyWhisperMessage(toArrayBuffer(first.body), 'binary');
    expect(new TextDecoder().decode(plain)).toBe('hello');
  });
});
