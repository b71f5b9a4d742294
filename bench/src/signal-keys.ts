import { randomInt } from 'node:crypto';
import { PrivateKey } from '@signalapp/libsignal-client';

/** A device key upload accepted by chat-service (`PUT /devices/:id/keys`). */
export interface KeyUpload {
  registrationId: number;
  identityKey: string;
  signedPreKey: { keyId: number; publicKey: string; signature: string };
  preKeys: { keyId: number; publicKey: string }[];
}

/**
 * Builds a valid key upload: a fresh identity key pair, a signed prekey whose signature the
 * server verifies with libsignal, and `preKeyCount` one-time prekeys. Done once per run and
 * reused for every synthetic user (the server only checks the signature, and keys are not
 * what the benchmark measures).
 * @param preKeyCount one-time prekeys to include (0-100)
 * @returns the upload body
 */
export function makeKeyUpload(preKeyCount = 0): KeyUpload {
  const identity = PrivateKey.generate();
  const signed = PrivateKey.generate();
  const signedPub = signed.getPublicKey().serialize();
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return {
    registrationId: randomInt(1, 16381),
    identityKey: b64(identity.getPublicKey().serialize()),
    signedPreKey: { keyId: 1, publicKey: b64(signedPub), signature: b64(identity.sign(signedPub)) },
    preKeys: Array.from({ length: preKeyCount }, (_, i) => ({
      keyId: i + 1,
      publicKey: b64(PrivateKey.generate().getPublicKey().serialize()),
    })),
  };
}
