/**
 * Plaintext padding, Signal's way: append 0x80, then zero bytes up to a multiple of the block
 * size. Every plaintext is padded before it is encrypted, so a ciphertext's length only tells
 * which size bucket its plaintext fell in: a receipt, a typing message and a short text share
 * a bucket and look alike on the wire and in the server's mailbox.
 */

/** Signal's padding block (bytes). */
export const PADDING_BLOCK = 160;

/** The padded plaintext has no 0x80 terminator (it is garbage or was not padded). */
export class PaddingError extends Error {
  /** @param message what is wrong */
  constructor(message: string) {
    super(message);
    this.name = 'PaddingError';
  }
}

/**
 * Pads bytes to the next multiple of `block` that leaves room for the 0x80 terminator (so 159
 * bytes take one block, 160 bytes two), and to at least `minBlocks` blocks.
 * @param bytes the plaintext
 * @param block block size in bytes (default 160)
 * @param minBlocks the fewest blocks to use (default 1)
 * @returns a new array: bytes, 0x80, zeros
 * @throws {RangeError} a block size or minimum below 1
 */
export function pad(bytes: Uint8Array, block = PADDING_BLOCK, minBlocks = 1): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(block) || block < 1 || !Number.isInteger(minBlocks) || minBlocks < 1) {
    throw new RangeError('block size and minimum must be positive integers');
  }
  const blocks = Math.max(minBlocks, Math.ceil((bytes.length + 1) / block));
  const out = new Uint8Array(blocks * block); // zero-filled
  out.set(bytes);
  out[bytes.length] = 0x80;
  return out;
}

/**
 * Removes Signal padding: strips trailing zero bytes and the 0x80 before them.
 * @param padded padded bytes
 * @returns the original bytes (a view into `padded`)
 * @throws {PaddingError} no 0x80 terminator after the trailing zeros
 */
export function unpad(padded: Uint8Array): Uint8Array {
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i -= 1;
  if (i < 0 || padded[i] !== 0x80) throw new PaddingError('no padding terminator');
  return padded.subarray(0, i);
}
