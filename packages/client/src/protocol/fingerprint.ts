import { FingerprintGenerator } from '@privacyresearch/libsignal-protocol-typescript';
import { bytesEqual, bytesToBinaryString, concatBytes, fromBase64, toArrayBuffer, toBase64, utf8 } from './bytes.js';

/** Signal's iteration count for safety numbers. */
export const FINGERPRINT_ITERATIONS = 5200;
/** Version of the scannable (QR) fingerprint, as Signal clients use with account ids. */
export const SCANNABLE_FINGERPRINT_VERSION = 2;

/** A contact's safety number in both forms. */
export interface SafetyNumber {
  /** 60 digits, as shown to the user (grouped in 12 blocks of 5 by the UI). */
  digits: string;
  /**
   * The QR payload: base64 of libsignal's `CombinedFingerprints` protobuf
   * (version, local and remote 32-byte fingerprints). The other side scans it and calls
   * `compareScannableFingerprint`.
   */
  qrPayload: string;
}

/**
 * The library reads identifier strings as Latin-1 (one byte per char). Signal feeds raw bytes,
 * so pass the UTF-8 bytes as a binary string; ASCII ids are unchanged, others now match libsignal.
 */
function identifierForLibrary(identifier: string): string {
  return bytesToBinaryString(utf8(identifier));
}

/**
 * Signal's per-party fingerprint hash: SHA-512 iterated over
 * `version(0x0000) || key || identifier`, then `hash || key`, `iterations` times (WebCrypto only).
 */
async function fingerprintHash(identifier: string, key: Uint8Array, iterations: number): Promise<Uint8Array> {
  let hash = concatBytes(new Uint8Array([0, 0]), key, utf8(identifier));
  for (let i = 0; i < iterations; i += 1) {
    hash = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-512', concatBytes(hash, key)));
  }
  return hash;
}

/** Minimal protobuf writer for `CombinedFingerprints` (fields are fixed-size; no library needed). */
function encodeCombined(version: number, local: Uint8Array, remote: Uint8Array): Uint8Array {
  const logical = (content: Uint8Array) => concatBytes(new Uint8Array([0x0a, content.length]), content);
  const l = logical(local);
  const r = logical(remote);
  return concatBytes(new Uint8Array([0x08, version, 0x12, l.length]), l, new Uint8Array([0x1a, r.length]), r);
}

/**
 * Computes the safety number between me and a contact.
 * @param localId my user id
 * @param localKey my 33-byte identity public key
 * @param remoteId the contact's user id
 * @param remoteKey the contact's 33-byte identity public key
 * @returns the 60 digits and the QR payload
 */
export async function computeSafetyNumber(
  localId: string,
  localKey: Uint8Array,
  remoteId: string,
  remoteKey: Uint8Array,
): Promise<SafetyNumber> {
  const generator = new FingerprintGenerator(FINGERPRINT_ITERATIONS);
  const [digits, localHash, remoteHash] = await Promise.all([
    generator.createFor(
      identifierForLibrary(localId),
      toArrayBuffer(localKey),
      identifierForLibrary(remoteId),
      toArrayBuffer(remoteKey),
    ),
    fingerprintHash(localId, localKey, FINGERPRINT_ITERATIONS),
    fingerprintHash(remoteId, remoteKey, FINGERPRINT_ITERATIONS),
  ]);
  const qr = encodeCombined(SCANNABLE_FINGERPRINT_VERSION, localHash.slice(0, 32), remoteHash.slice(0, 32));
  return { digits, qrPayload: toBase64(qr) };
}

/**
 * Compares a scanned QR payload (the contact's view) with mine: theirs must carry my
 * fingerprint as "remote" and theirs as "local".
 * @param mine my `qrPayload`
 * @param scanned the payload read from the contact's screen
 * @returns true when both sides hold the same keys
 * @throws {Error} when the versions differ or the payload is malformed
 */
export function compareScannableFingerprint(mine: string, scanned: string): boolean {
  const parse = (b64: string) => {
    const b = fromBase64(b64);
    if (b.length !== 74 || b[0] !== 0x08 || b[2] !== 0x12 || b[3] !== 34 || b[4] !== 0x0a || b[5] !== 32) {
      throw new Error('malformed fingerprint payload');
    }
    if (b[38] !== 0x1a || b[39] !== 34 || b[40] !== 0x0a || b[41] !== 32) throw new Error('malformed fingerprint payload');
    return { version: b[1], local: b.slice(6, 38), remote: b.slice(42, 74) };
  };
  const a = parse(mine);
  const b = parse(scanned);
  if (a.version !== b.version) throw new Error('fingerprint version mismatch');
  return bytesEqual(a.local, b.remote) && bytesEqual(a.remote, b.local);
}
