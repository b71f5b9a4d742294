import { z } from 'zod';
import { fromBase64, toBase64 } from '../protocol/bytes.js';
import type { KvBackend } from './kv-backend.js';

/** Key of the cache's index in the `media` namespace (entries are keyed by attachment id, a UUID). */
const INDEX_KEY = '#index';
const Index = z.record(z.string(), z.object({ size: z.number(), usedAt: z.number() }));
type Index = z.infer<typeof Index>;

/**
 * The cache key of an attachment: its server id AND the digest its message promised. A file
 * cached under another message's pointer with the same id (a hostile server re-using ids, or
 * serving one sender's blob under another's id) never answers for this one.
 * @param pointer the attachment's id and digest (from the message)
 * @returns the key
 */
export function mediaKey(pointer: { id: string; digest: string }): string {
  return `${pointer.id}.${pointer.digest}`;
}

/**
 * Decrypted attachments kept on this device, in the `media` namespace of the store's backend:
 * so they rest however the store rests (sealed under the device key in IndexedDB). Bounded by a
 * byte cap; the least recently used go first. Index updates run one at a time.
 */
export class MediaCache {
  private queue: Promise<unknown> = Promise.resolve();
  private clock = 0;

  /** @param backend the store's backend */
  constructor(private readonly backend: KvBackend) {}

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async index(): Promise<Index> {
    const raw = await this.backend.get('media', INDEX_KEY);
    return raw === undefined ? {} : Index.parse(JSON.parse(raw));
  }

  /** A strictly increasing use stamp (two uses in one millisecond keep their order). */
  private stamp(): number {
    this.clock = Math.max(this.clock + 1, Date.now());
    return this.clock;
  }

  /**
   * @param id attachment id
   * @returns the cached bytes (now the most recently used), or undefined
   */
  get(id: string): Promise<Uint8Array | undefined> {
    return this.serial(async () => {
      const index = await this.index();
      const entry = index[id];
      if (!entry) return undefined;
      const raw = await this.backend.get('media', id);
      if (raw === undefined) {
        delete index[id];
        await this.backend.putMany('media', [[INDEX_KEY, JSON.stringify(index)]]);
        return undefined;
      }
      index[id] = { ...entry, usedAt: this.stamp() };
      await this.backend.putMany('media', [[INDEX_KEY, JSON.stringify(index)]]);
      return fromBase64(raw);
    });
  }

  /**
   * Keeps a decrypted attachment, then drops the least recently used until the cache fits the cap.
   * A file larger than the cap is not kept.
   * @param id attachment id
   * @param bytes the plaintext
   * @param capBytes the cache's size cap in bytes
   */
  put(id: string, bytes: Uint8Array, capBytes: number): Promise<void> {
    return this.serial(async () => {
      if (bytes.length > capBytes) return;
      const index = await this.index();
      index[id] = { size: bytes.length, usedAt: this.stamp() };
      const evict: string[] = [];
      let total = Object.values(index).reduce((n, e) => n + e.size, 0);
      for (const [old, e] of Object.entries(index).sort((a, b) => a[1].usedAt - b[1].usedAt)) {
        if (total <= capBytes) break;
        evict.push(old);
        total -= e.size;
        delete index[old];
      }
      await this.backend.batch([
        { ns: 'media', key: id, value: toBase64(bytes) },
        ...evict.map((k) => ({ ns: 'media' as const, key: k, value: undefined })),
        { ns: 'media', key: INDEX_KEY, value: JSON.stringify(index) },
      ]);
    });
  }

  /**
   * Drops cached attachments (their message was deleted or disappeared).
   * @param ids attachment ids
   */
  delete(ids: readonly string[]): Promise<void> {
    return this.serial(async () => {
      if (ids.length === 0) return;
      const index = await this.index();
      for (const id of ids) delete index[id];
      await this.backend.batch([
        ...ids.map((k) => ({ ns: 'media' as const, key: k, value: undefined })),
        { ns: 'media', key: INDEX_KEY, value: JSON.stringify(index) },
      ]);
    });
  }

  /** @returns the ids cached now, least recently used first */
  async ids(): Promise<string[]> {
    const index = await this.serial(() => this.index());
    return Object.entries(index)
      .sort((a, b) => a[1].usedAt - b[1].usedAt)
      .map(([id]) => id);
  }
}
