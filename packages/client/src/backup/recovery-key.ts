import { randomBytes } from '../protocol/bytes.js';

/** RFC 4648 base32 alphabet (no 0/1/8/9, so no O/0 or I/1 confusion in print). */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Recovery keys carry 256 random bits. */
export const RECOVERY_KEY_BYTES = 32;
const CHARS = Math.ceil((RECOVERY_KEY_BYTES * 8) / 5); // 52

/**
 * A new recovery key: 256 random bits shown once at sign-up as 13 groups of 4 base32 characters,
 * e.g. `ABCD-EFGH-...`. It alone can open the key backup after a password reset.
 * @returns the printable key
 */
export function generateRecoveryKey(): string {
  return formatRecoveryKey(randomBytes(RECOVERY_KEY_BYTES));
}

/**
 * Formats 32 bytes as grouped base32.
 * @param bytes the key bytes
 * @returns printable text
 */
export function formatRecoveryKey(bytes: Uint8Array): string {
  if (bytes.length !== RECOVERY_KEY_BYTES) throw new RangeError('recovery key must be 32 bytes');
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out.match(/.{1,4}/g)!.join('-');
}

/**
 * Parses a recovery key as typed by a person: case, spaces and dashes do not matter.
 * @param text the typed key
 * @returns the 32 key bytes
 * @throws {Error} `invalid recovery key` when it is malformed
 */
export function parseRecoveryKey(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.toUpperCase().replace(/[\s-]/g, '');
  if (clean.length !== CHARS) throw new Error('invalid recovery key');
  const out = new Uint8Array(RECOVERY_KEY_BYTES);
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error('invalid recovery key');
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      if (index < RECOVERY_KEY_BYTES) out[index] = (value >>> (bits - 8)) & 0xff;
      index += 1;
      bits -= 8;
    }
  }
  // The 4 padding bits of the last character must be zero (catches most typos in that char).
  if ((value & ((1 << bits) - 1)) !== 0) throw new Error('invalid recovery key');
  return out;
}
