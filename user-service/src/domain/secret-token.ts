import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A fresh high-entropy token (32 random bytes, base64url): refresh tokens, email verification
 * and password reset links. Only its {@link tokenDigest} is ever stored.
 * @returns the raw token, to hand to the client exactly once
 */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * SHA-256 of a token. A plain (unsalted, fast) hash is right here: the input has 256 bits of
 * entropy, so there is nothing to brute-force, and lookups by digest stay indexable.
 * @param token the raw token
 * @returns the 32-byte digest
 */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Constant-time equality of two byte strings.
 * @param a first
 * @param b second
 * @returns whether they are equal
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
