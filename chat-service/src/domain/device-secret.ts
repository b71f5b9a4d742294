import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Random bytes in a device secret (256 bits: not guessable, not worth brute-forcing a digest of). */
export const DEVICE_SECRET_BYTES = 32;

/** A freshly minted device secret and the digest the server keeps of it. */
export interface NewDeviceSecret {
  /** Handed to the device once (base64url, no padding); never stored by the server. */
  secret: string;
  /** SHA-256 of the secret's text, the only form stored (`chat.devices.secret_digest`). */
  digest: Buffer;
}

/**
 * Digests a device secret. A plain SHA-256 is enough (no salt, no slow KDF): the secret is 256
 * random bits, not a password, so a leaked digest cannot be reversed by guessing.
 * @param secret the secret as the device presents it
 * @returns its 32-byte SHA-256 digest
 */
export function digestDeviceSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/**
 * Mints a device secret for a new device.
 * @returns the secret (to return once) and its digest (to store)
 */
export function newDeviceSecret(): NewDeviceSecret {
  const secret = randomBytes(DEVICE_SECRET_BYTES).toString('base64url');
  return { secret, digest: digestDeviceSecret(secret) };
}

/**
 * Whether a presented secret matches a stored digest, in constant time: both sides are
 * 32-byte digests, so `timingSafeEqual` compares equal lengths and the time taken says nothing
 * about how much of the secret was right.
 * @param stored the stored digest; null for a device registered before device secrets existed
 * @param presented the secret the caller sent, if any
 * @returns true only for a stored digest and the secret it was made from
 */
export function deviceSecretMatches(stored: Buffer | null, presented: string | undefined): boolean {
  // Digest even when there is nothing to compare against, so a missing device secret costs the same.
  const candidate = digestDeviceSecret(presented ?? '');
  if (stored === null || presented === undefined || presented === '' || stored.length !== candidate.length) return false;
  return timingSafeEqual(stored, candidate);
}
