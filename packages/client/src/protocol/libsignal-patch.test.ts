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

/**
 * Regression test for the second hunk of the same patch: `decryptWithSessionList` tried each of
 * a peer's sessions in place, and `doDecryptWhisperMessage` steps the ratchet before the MAC is
 * checked, so a failed try corrupted that session and the record was stored with it as soon as
 * another session matched. Two devices that start sessions with each other at once hold two
 * sessions each; later messages then failed to decrypt (`invalid_message`) for good.
 */
describe('patched libsignal-protocol-typescript decryptWithSessionList', () => {
  it('when a message decrypts on an older session, then the session tried first is stored unchanged', async () => {
    const alice = await createTestDevice('alice', 1);
    const bob = await createTestDevice('bob', 1);
    // Both start a session at the same moment: each first message is a PreKeyWhisper.
    await alice.protocol.processBundle('bob', await bob.bundle());
    await bob.protocol.processBundle('alice', await alice.bundle());
    const fromAlice = await alice.protocol.encrypt('bob', 1, utf8('a1'));
    const fromBob = await bob.protocol.encrypt('alice', 1, utf8('b1'));
    await alice.protocol.decrypt('bob', 1, fromBob.type, fromBob.body); // Alice now sends on Bob's session
    await bob.protocol.decrypt('alice', 1, fromAlice.type, fromAlice.body); // Bob's open session is Alice's
    const sessionsOf = async () =>
      (JSON.parse((await bob.store.getSession('alice.1'))!) as { sessions: Record<string, { indexInfo: { closed: number } }> })
        .sessions;
    const before = await sessionsOf();
    const open = Object.keys(before).find((k) => before[k]!.indexInfo.closed === -1)!;

    // Alice's next message is on the other session: Bob tries his open one first, and it fails.
    const a2 = await alice.protocol.encrypt('bob', 1, utf8('a2'));
    expect(a2.type).toBe(1);
    expect(new TextDecoder().decode(await bob.protocol.decrypt('alice', 1, a2.type, a2.body))).toBe('a2');

    const after = await sessionsOf();
    const strip = (s: { indexInfo: { closed: number } }) => JSON.stringify({ ...s, indexInfo: { ...s.indexInfo, closed: 0 } });
    expect(after[open]!.indexInfo.closed).not.toBe(-1); // archived: the other session is open now
    expect(strip(after[open]!)).toBe(strip(before[open]!));
    // And the sessions keep working both ways.
    const b2 = await bob.protocol.encrypt('alice', 1, utf8('b2'));
    expect(new TextDecoder().decode(await alice.protocol.decrypt('bob', 1, b2.type, b2.body))).toBe('b2');
  });
});
