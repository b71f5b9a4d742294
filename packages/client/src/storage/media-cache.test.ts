import { describe, expect, it } from 'vitest';
import { MemoryKvBackend } from './kv-backend.js';
import { KvProtocolStore } from './kv-protocol-store.js';
import { mediaKey } from './media-cache.js';

const ids = ['a', 'b', 'c', 'd'].map((c) => `${c.repeat(8)}-0000-4000-8000-000000000000`);
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('the decrypted-media cache', () => {
  it('when files pass the size cap, then the least recently used are dropped first', async () => {
    const store = new KvProtocolStore(new MemoryKvBackend());
    await store.putMedia(ids[0]!, bytes(400, 1), 1000);
    await store.putMedia(ids[1]!, bytes(400, 2), 1000);
    expect(await store.getMedia(ids[0]!)).toEqual(bytes(400, 1)); // a is now newer than b
    await store.putMedia(ids[2]!, bytes(400, 3), 1000);
    expect(await store.getMedia(ids[1]!)).toBeUndefined();
    expect(await store.getMedia(ids[0]!)).toEqual(bytes(400, 1));
    expect(await store.getMedia(ids[2]!)).toEqual(bytes(400, 3));
    // a file larger than the whole cap is not kept (and drops nothing)
    await store.putMedia(ids[3]!, bytes(1001, 4), 1000);
    expect(await store.getMedia(ids[3]!)).toBeUndefined();
    expect(await store.getMedia(ids[0]!)).toBeDefined();
  });

  it('when the message of a cached file is deleted or becomes a tombstone, then the file is gone', async () => {
    const store = new KvProtocolStore(new MemoryKvBackend());
    const message = (id: string, attachmentId: string) => ({
      id,
      conversationId: 'c',
      senderUserId: 'u',
      senderDeviceId: 1,
      direction: 'in' as const,
      kind: 'attachment' as const,
      sentAt: 1,
      status: 'received' as const,
      attachment: {
        id: attachmentId,
        key: 'A'.repeat(44),
        digest: 'B'.repeat(44),
        size: 3,
        contentType: 'image/png',
      },
    });
    const key = (id: string) => mediaKey({ id, digest: 'B'.repeat(44) });
    await store.putMessage(message('m1', ids[0]!));
    await store.putMessage(message('m2', ids[1]!));
    await store.putMedia(key(ids[0]!), bytes(3, 1), 1000);
    await store.putMedia(key(ids[1]!), bytes(3, 2), 1000);
    await store.deleteMessage('m1');
    expect(await store.getMedia(key(ids[0]!))).toBeUndefined();
    const { attachment: _gone, ...tomb } = message('m2', ids[1]!);
    await store.putMessage({ ...tomb, deletedAt: 2 });
    expect(await store.getMedia(key(ids[1]!))).toBeUndefined();
  });
});
