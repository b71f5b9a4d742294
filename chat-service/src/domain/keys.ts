import { PublicKey } from '@signalapp/libsignal-client';

/** Length of a Signal serialized public key: the 0x05 (DJB) type byte + 32 key bytes. */
export const PUBLIC_KEY_LENGTH = 33;
/** Length of an XEdDSA signature. */
export const SIGNATURE_LENGTH = 64;

/**
 * Decodes a base64 Signal public key and checks its shape.
 * @param b64 base64 text (already bounded by the contracts schema)
 * @returns the 33 serialized bytes, or null when it is not 33 bytes starting with 0x05
 */
export function decodePublicKey(b64: string): Buffer | null {
  const bytes = Buffer.from(b64, 'base64');
  return bytes.length === PUBLIC_KEY_LENGTH && bytes[0] === 0x05 ? bytes : null;
}

/**
 * Decodes a base64 signature and checks its length.
 * @param b64 base64 text
 * @returns the 64 bytes, or null
 */
export function decodeSignature(b64: string): Buffer | null {
  const bytes = Buffer.from(b64, 'base64');
  return bytes.length === SIGNATURE_LENGTH ? bytes : null;
}

/**
 * Verifies a signed prekey with the official libsignal implementation: the signature must be
 * the identity key's XEdDSA signature over the signed prekey's serialized public key (what
 * every Signal client checks before X3DH; refusing forgeries here keeps anyone from planting
 * a bundle that peers would reject or, worse, a buggy peer would accept).
 * @param identityKey serialized identity public key (33 bytes)
 * @param signedPreKey serialized signed prekey public key (33 bytes)
 * @param signature 64-byte signature
 * @returns true only when it verifies (an invalid point is simply "false")
 */
export function verifySignedPreKey(identityKey: Buffer, signedPreKey: Buffer, signature: Buffer): boolean {
  try {
    return PublicKey.deserialize(copy(identityKey)).verify(copy(signedPreKey), copy(signature));
  } catch {
    return false;
  }
}

function copy(b: Buffer): Uint8Array<ArrayBuffer> {
  // libsignal's typings want a Uint8Array over a plain ArrayBuffer; copy out of Node's pool.
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}
