import { KeyHelper } from '@privacyresearch/libsignal-protocol-typescript';
import type { KeyPairBytes, LocalIdentity, PreKeyRecord, SignedPreKeyRecord } from '../storage/protocol-store.js';
import { fromBase64, toArrayBuffer, toBase64, toBytes } from './bytes.js';
import { useWebCryptoCurve } from './x25519.js';

useWebCryptoCurve();

/** Serialized Curve25519 public keys are 33 bytes: a 0x05 type byte and the 32-byte key. */
export const PUBLIC_KEY_LENGTH = 33;
/** XEdDSA signatures are 64 bytes. */
export const SIGNATURE_LENGTH = 64;
/** How many one-time prekeys a device uploads at once (chat-service accepts up to 100). */
export const PREKEY_BATCH = 100;
/** Below this many one-time prekeys on the server, the client uploads a new batch. */
export const PREKEY_REFILL_THRESHOLD = 10;
/** Signed prekeys are rotated after this long (Signal rotates every few days). */
export const SIGNED_PREKEY_MAX_AGE_MS = 3 * 24 * 60 * 60 * 1000;
/** Old signed prekeys are kept this long after rotation so in-flight first messages still decrypt. */
export const SIGNED_PREKEY_GRACE_MS = 14 * 24 * 60 * 60 * 1000;
/** Prekey ids are 24-bit in Signal. */
export const MAX_PREKEY_ID = 0xffffff;

function kp(pair: { pubKey: ArrayBuffer; privKey: ArrayBuffer }): KeyPairBytes {
  return { pubKey: toBytes(pair.pubKey), privKey: toBytes(pair.privKey) };
}

/**
 * Creates a new account identity key pair and this device's registration id.
 * @returns the new local identity
 */
export async function generateLocalIdentity(): Promise<LocalIdentity> {
  const identityKeyPair = kp(await KeyHelper.generateIdentityKeyPair());
  return { identityKeyPair, registrationId: generateRegistrationId() };
}

/**
 * A fresh registration id for a device (14 bits, never 0).
 * @returns the id
 */
export function generateRegistrationId(): number {
  let id = 0;
  while (id === 0) id = KeyHelper.generateRegistrationId();
  return id;
}

/**
 * Creates a signed prekey: a new key pair whose public key is signed by the identity key.
 * @param identityKeyPair the account identity
 * @param keyId its id
 * @param now creation time (epoch ms)
 * @returns the record
 */
export async function generateSignedPreKey(
  identityKeyPair: KeyPairBytes,
  keyId: number,
  now = Date.now(),
): Promise<SignedPreKeyRecord> {
  const spk = await KeyHelper.generateSignedPreKey(
    { pubKey: toArrayBuffer(identityKeyPair.pubKey), privKey: toArrayBuffer(identityKeyPair.privKey) },
    keyId,
  );
  return { keyId, keyPair: kp(spk.keyPair), signature: toBytes(spk.signature), createdAt: now };
}

/**
 * Creates `count` one-time prekeys with consecutive ids starting at `startId` (wrapping at 2^24).
 * @param startId first id
 * @param count how many
 * @returns the records
 */
export async function generatePreKeys(startId: number, count: number): Promise<PreKeyRecord[]> {
  const out: PreKeyRecord[] = [];
  for (let i = 0; i < count; i += 1) {
    const keyId = ((startId - 1 + i) % MAX_PREKEY_ID) + 1;
    const pk = await KeyHelper.generatePreKey(keyId);
    out.push({ keyId, keyPair: kp(pk.keyPair) });
  }
  return out;
}

/** The key upload body of `PUT /api/chat/devices/:deviceId/keys` (base64 values). */
export interface KeyUpload {
  registrationId: number;
  identityKey: string;
  signedPreKey: { keyId: number; publicKey: string; signature: string };
  preKeys: Array<{ keyId: number; publicKey: string }>;
}

/**
 * Builds the public key upload: base64 of the library's 33-byte serialized public keys and
 * 64-byte signatures, which is what chat-service verifies with libsignal.
 * @param identity local identity
 * @param signedPreKey current signed prekey
 * @param preKeys one-time prekeys to publish
 * @returns the request body
 */
export function toKeyUpload(
  identity: LocalIdentity,
  signedPreKey: SignedPreKeyRecord,
  preKeys: readonly PreKeyRecord[],
): KeyUpload {
  return {
    registrationId: identity.registrationId,
    identityKey: toBase64(identity.identityKeyPair.pubKey),
    signedPreKey: {
      keyId: signedPreKey.keyId,
      publicKey: toBase64(signedPreKey.keyPair.pubKey),
      signature: toBase64(signedPreKey.signature),
    },
    preKeys: preKeys.map((p) => ({ keyId: p.keyId, publicKey: toBase64(p.keyPair.pubKey) })),
  };
}

/** One device's public prekey bundle, decoded. */
export interface DeviceBundle {
  deviceId: number;
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: { keyId: number; publicKey: Uint8Array; signature: Uint8Array };
  preKey?: { keyId: number; publicKey: Uint8Array } | undefined;
}

/**
 * Decodes and length-checks a bundle as served by `GET /api/chat/users/:userId/keys`.
 * @param identityKey base64 identity key of the user
 * @param device one entry of `devices`
 * @returns the decoded bundle
 * @throws {TypeError} on malformed keys
 */
export function decodeBundle(
  identityKey: string,
  device: {
    deviceId: number;
    registrationId: number;
    signedPreKey: { keyId: number; publicKey: string; signature: string };
    preKey?: { keyId: number; publicKey: string } | null | undefined;
  },
): DeviceBundle {
  const key = (b64: string, len: number, what: string) => {
    const bytes = fromBase64(b64);
    if (bytes.length !== len) throw new TypeError(`${what} must be ${len} bytes`);
    if (len === PUBLIC_KEY_LENGTH && bytes[0] !== 0x05) throw new TypeError(`${what} must start with 0x05`);
    return bytes;
  };
  return {
    deviceId: device.deviceId,
    registrationId: device.registrationId,
    identityKey: key(identityKey, PUBLIC_KEY_LENGTH, 'identityKey'),
    signedPreKey: {
      keyId: device.signedPreKey.keyId,
      publicKey: key(device.signedPreKey.publicKey, PUBLIC_KEY_LENGTH, 'signedPreKey.publicKey'),
      signature: key(device.signedPreKey.signature, SIGNATURE_LENGTH, 'signedPreKey.signature'),
    },
    preKey: device.preKey
      ? { keyId: device.preKey.keyId, publicKey: key(device.preKey.publicKey, PUBLIC_KEY_LENGTH, 'preKey.publicKey') }
      : undefined,
  };
}
