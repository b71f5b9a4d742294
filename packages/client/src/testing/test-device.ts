import type { KeyPairBytes, ProtocolStore } from '../storage/protocol-store.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import { generateLocalIdentity, generatePreKeys, generateRegistrationId, generateSignedPreKey } from '../protocol/keys.js';
import type { DeviceBundle } from '../protocol/keys.js';
import { SignalProtocol, type IdentityChange } from '../protocol/signal-protocol.js';

/** An in-memory Signal device for tests: store, protocol and a bundle dispenser. */
export interface TestDevice {
  userId: string;
  deviceId: number;
  store: ProtocolStore;
  protocol: SignalProtocol;
  identityChanges: IdentityChange[];
  /** Hands out a bundle, consuming one one-time prekey (as the server would). */
  bundle(): Promise<DeviceBundle>;
}

/**
 * Creates a device with a signed prekey and `preKeyCount` one-time prekeys.
 * @param userId account id
 * @param deviceId device id
 * @param options share an identity key between devices of one account
 * @returns the device
 */
export async function createTestDevice(
  userId: string,
  deviceId: number,
  options: { identityKeyPair?: KeyPairBytes; preKeyCount?: number } = {},
): Promise<TestDevice> {
  const store = createMemoryStore();
  const fresh = await generateLocalIdentity();
  const identityKeyPair = options.identityKeyPair ?? fresh.identityKeyPair;
  await store.setLocalIdentity({ identityKeyPair, registrationId: generateRegistrationId() });
  const signed = await generateSignedPreKey(identityKeyPair, 1);
  await store.putSignedPreKey(signed);
  const preKeys = await generatePreKeys(1, options.preKeyCount ?? 5);
  await store.putPreKeys(preKeys);
  const available = [...preKeys];
  const identityChanges: IdentityChange[] = [];
  const protocol = new SignalProtocol(store, { localUserId: userId, onIdentityChange: (c) => identityChanges.push(c) });
  return {
    userId,
    deviceId,
    store,
    protocol,
    identityChanges,
    async bundle() {
      const local = await store.getLocalIdentity();
      const spk = (await store.listSignedPreKeys()).at(-1);
      if (!local || !spk) throw new Error('device has no keys');
      const pk = available.shift();
      return {
        deviceId,
        registrationId: local.registrationId,
        identityKey: local.identityKeyPair.pubKey,
        signedPreKey: { keyId: spk.keyId, publicKey: spk.keyPair.pubKey, signature: spk.signature },
        preKey: pk ? { keyId: pk.keyId, publicKey: pk.keyPair.pubKey } : undefined,
      };
    },
  };
}
