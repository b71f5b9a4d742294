import { bytesEqual, fromBase64, randomBytes, toBase64 } from '../protocol/bytes.js';

/** Result of encrypting an attachment: upload `ciphertext`, send key + digest in the E2EE message. */
export interface EncryptedAttachment {
  /** `iv (12 bytes) || AES-256-GCM ciphertext+tag`: the only thing the server stores. */
  ciphertext: Uint8Array<ArrayBuffer>;
  /** base64 of the fresh 32-byte key (never reused across attachments). */
  key: string;
  /** base64 SHA-256 of `ciphertext`. */
  digest: string;
  /** Plaintext size. */
  size: number;
}

/** The downloaded blob does not match the digest from the message, or does not decrypt. */
export class AttachmentIntegrityError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AttachmentIntegrityError';
  }
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
}

/**
 * Encrypts an attachment with a fresh random AES-256-GCM key.
 * @param plaintext the file bytes
 * @returns ciphertext to upload, and the key and digest for the message
 */
export async function encryptAttachment(plaintext: Uint8Array): Promise<EncryptedAttachment> {
  const rawKey = randomBytes(32);
  const iv = randomBytes(12);
  const key = await globalThis.crypto.subtle.importKey('raw', rawKey, 'AES-GCM', false, ['encrypt']);
  const ct = new Uint8Array(
    await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plaintext as Uint8Array<ArrayBuffer>),
  );
  const ciphertext = new Uint8Array(iv.length + ct.length);
  ciphertext.set(iv);
  ciphertext.set(ct, iv.length);
  return { ciphertext, key: toBase64(rawKey), digest: toBase64(await sha256(ciphertext)), size: plaintext.length };
}

/**
 * Verifies the SHA-256 digest of a downloaded blob, then decrypts it. The digest check comes
 * first so a swapped or corrupted blob is rejected before any decryption is attempted.
 * @param ciphertext downloaded bytes
 * @param key base64 key from the message
 * @param digest base64 digest from the message
 * @returns the plaintext
 * @throws {AttachmentIntegrityError} digest mismatch or decryption failure
 */
export async function decryptAttachment(
  ciphertext: Uint8Array,
  key: string,
  digest: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const blob = new Uint8Array(ciphertext);
  if (!bytesEqual(await sha256(blob), fromBase64(digest))) {
    throw new AttachmentIntegrityError('attachment digest does not match');
  }
  if (blob.length < 12 + 16) throw new AttachmentIntegrityError('attachment too short');
  try {
    const k = await globalThis.crypto.subtle.importKey('raw', fromBase64(key), 'AES-GCM', false, ['decrypt']);
    return new Uint8Array(
      await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: blob.slice(0, 12) }, k, blob.slice(12)),
    );
  } catch (err) {
    throw new AttachmentIntegrityError('attachment does not decrypt', { cause: err });
  }
}
