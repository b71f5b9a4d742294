import { describe, expect, it } from 'vitest';
import { encryptAttachment } from '../attachments/attachment-crypto.js';
import { AttachmentTransfer } from './attachment-transfer.js';

describe('the decrypted-media cache under a hostile server', () => {
  it('when another pointer with the same id but another digest is opened, then the cached file does not answer for it', async () => {
    const media = new Map<string, Uint8Array>();
    const store = {
      getMedia: async (key: string) => media.get(key),
      putMedia: async (key: string, b: Uint8Array) => void media.set(key, b),
    };
    const downloads: string[] = [];
    const mallory = await encryptAttachment(new TextEncoder().encode('PAY TO IBAN XX00 MALLORY'));
    // The server serves Mallory's blob under any id it likes.
    const api = {
      chat: {
        downloadAttachment: async (id: string) => (downloads.push(id), mallory.ciphertext),
      },
    };
    const transfer = new AttachmentTransfer(api as never, { current: { store } } as never, 1 << 20);
    const id = '11111111-1111-4111-8111-111111111111';
    const pointer = (e: typeof mallory) => ({
      id,
      key: e.key,
      digest: e.digest,
      size: e.size,
      contentType: 'application/pdf',
    });
    await transfer.download(pointer(mallory)); // Mallory's own message: verified and cached
    const alice = await encryptAttachment(new TextEncoder().encode('PAY TO IBAN DE00 ALICE!!'));
    expect(alice.size).toBe(mallory.size);
    // Alice's message names the same id: it is downloaded again and her digest refuses the blob.
    await expect(transfer.download(pointer(alice))).rejects.toThrow();
    expect(downloads).toEqual([id, id]);
  });
});
