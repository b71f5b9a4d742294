import { describe, expect, it } from 'vitest';
import { utf8 } from './bytes.js';
import { DecryptError, ProtocolError } from './errors.js';
import { createTestDevice, type TestDevice } from '../testing/test-device.js';

const ALICE = '11111111-1111-4111-8111-111111111111';
const CAROL = '33333333-3333-4333-8333-333333333333';

async function aliceWithSecondDevice(): Promise<{ a1: TestDevice; a2: TestDevice }> {
  const a1 = await createTestDevice(ALICE, 1);
  const local = await a1.store.getLocalIdentity();
  const a2 = await createTestDevice(ALICE, 2, { identityKeyPair: local!.identityKeyPair });
  return { a1, a2 };
}

// Review (issue 14): my identity key belongs to my account only. A hostile server that serves it
// as another user's key, or relabels a message of my own device as another user's, must not get
// a contact "Carol" pinned to my key (my own words shown as Carol's, Carol's messages readable
// by my devices only in appearance).
describe('SignalProtocol: my identity key offered as a contact\'s', () => {
  it('when a bundle for another user carries my own identity key, then it is refused as own_identity_key and nothing is stored', async () => {
    const { a1, a2 } = await aliceWithSecondDevice();
    // The server hands out my second device's genuine bundle as Carol's.
    const err = await a1.protocol.processBundle(CAROL, { ...(await a2.bundle()), deviceId: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('own_identity_key');
    expect(await a1.store.getIdentity(CAROL)).toBeUndefined();
    expect(await a1.protocol.sessionDevices(CAROL)).toEqual([]);
  });

  it('when a first message of my other device is relabelled as from another user, then it fails own_identity_key and no identity is pinned', async () => {
    const { a1, a2 } = await aliceWithSecondDevice();
    await a2.protocol.processBundle(ALICE, await a1.bundle());
    const c = await a2.protocol.encrypt(ALICE, 1, utf8('what I wrote to Bob'));
    const err = await a1.protocol.decrypt(CAROL, 2, c.type, c.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptError);
    expect((err as DecryptError).code).toBe('own_identity_key');
    expect(await a1.store.getIdentity(CAROL)).toBeUndefined();
    expect(a1.identityChanges).toEqual([]);
    expect(await a1.protocol.sessionDevices(CAROL)).toEqual([]);
  });

  it('when a known contact\'s bundle is swapped for my own device\'s, then it fails own_identity_key and raises no identity change the user could accept', async () => {
    const { a1, a2 } = await aliceWithSecondDevice();
    const carol = await createTestDevice(CAROL, 1);
    await a1.protocol.processBundle(CAROL, await carol.bundle());
    const before = await a1.store.getIdentity(CAROL);
    const err = await a1.protocol.processBundle(CAROL, { ...(await a2.bundle()), deviceId: 5 }).catch((e: unknown) => e);
    expect((err as ProtocolError).code).toBe('own_identity_key');
    expect(await a1.store.getIdentity(CAROL)).toEqual(before);
    expect(a1.identityChanges).toEqual([]);
    expect(await a1.protocol.sessionDevices(CAROL)).toEqual([1]);
  });
});
