import { fromUtf8, utf8 } from '../protocol/bytes.js';
import { PlaintextMessage } from './message.schema.js';
import { PADDING_BLOCK, pad, unpad } from './padding.js';

/**
 * The fewest padding blocks of a plaintext. The smallest receipt or typing plaintext is already
 * longer than one block (the JSON carries two UUIDs and a timestamp), so a one-block ciphertext
 * could only be a text of a few characters: every kind starts at two blocks (320 bytes).
 */
export const MIN_PADDED_BLOCKS = 2;

/** `}`: the last byte of an unpadded JSON plaintext, as older clients sent it. */
const JSON_END = 0x7d;

/**
 * Serialises a plaintext for encryption: schema-checked JSON, UTF-8, Signal padding to a
 * multiple of 160 bytes (at least 320).
 * @param plaintext the message (any kind)
 * @returns the padded bytes
 * @throws {z.ZodError} the plaintext breaks the schema
 */
export function encodePlaintext(plaintext: PlaintextMessage): Uint8Array<ArrayBuffer> {
  return pad(utf8(JSON.stringify(PlaintextMessage.parse(plaintext))), PADDING_BLOCK, MIN_PADDED_BLOCKS);
}

/**
 * Parses decrypted bytes: removes the padding (an unpadded JSON plaintext from an older client
 * is accepted as it is), then validates the JSON with the schema.
 * @param bytes decrypted bytes
 * @returns the plaintext
 * @throws {PaddingError} neither padded nor legacy JSON
 * @throws {SyntaxError} not JSON
 * @throws {z.ZodError} the plaintext breaks the schema
 */
export function decodePlaintext(bytes: Uint8Array): PlaintextMessage {
  const legacy = bytes.length > 0 && bytes[bytes.length - 1] === JSON_END;
  const body = legacy ? bytes : unpad(bytes);
  return PlaintextMessage.parse(JSON.parse(fromUtf8(body)));
}
