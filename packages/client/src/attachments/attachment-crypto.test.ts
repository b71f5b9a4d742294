import { describe, expect, it } from 'vitest';
import { randomBytes, utf8 } from '../protocol/bytes.js';
import { AttachmentIntegrityError, decryptAttachment, encryptAttachment } from './attachment-crypto.js';

describe('attachment crypto', () => {
  it('when encrypted, then it round-trips and each attachment gets its own key', async () => {
    const data = randomBytes(100_000);
    const a = await encryptAttachment(data);
    const b = await encryptAttachment(data);
    expect(a.key).not.toBe(b.key);
    expect(a.size).toBe(100_000);
    expect(await decryptAttachment(a.ciphertext, a.key, a.digest)).toEqual(data);
  });

  it('when the blob is altered or swapped, then the digest check rejects it before decrypting', async () => {
    const a = await encryptAttachment(utf8('MARKER attachment text'));
    const b = await encryptAttachment(utf8('other file'));
    const flipped = a.ciphertext.slice();
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    await expect(decryptAttachment(flipped, a.key, a.digest)).rejects.toBeInstanceOf(AttachmentIntegrityError);
    await expect(decryptAttachment(b.ciphertext, a.key, a.digest)).rejects.toBeInstanceOf(AttachmentIntegrityError);
    // Right blob and digest but wrong key: decryption fails cleanly too.
    await expect(decryptAttachment(a.ciphertext, b.key, a.digest)).rejects.toBeInstanceOf(AttachmentIntegrityError);
    expect(new TextDecoder().decode(a.ciphertext)).not.toContain('MARKER');
  });
});
