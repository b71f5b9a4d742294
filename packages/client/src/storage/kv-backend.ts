/** Record namespaces of the key-value layout (one IndexedDB index / map per namespace). */
export type Namespace =
  | 'local'
  | 'prekey'
  | 'signed-prekey'
  | 'session'
  | 'identity'
  | 'meta'
  | 'message'
  | 'outbox'
  /** Decrypted attachments cached on this device (`storage/media-cache.ts`). */
  | 'media';

/** One write of an atomic {@link KvBackend.batch}: a value to put, or `undefined` to delete. */
export interface KvWrite {
  readonly ns: Namespace;
  readonly key: string;
  readonly value: string | undefined;
}

/**
 * The minimal persistence primitive behind `KvProtocolStore`: string values by namespace and
 * key. Implementations decide how values rest (in memory, encrypted in IndexedDB, in a file).
 */
export interface KvBackend {
  /** @returns the value, or undefined. */
  get(ns: Namespace, key: string): Promise<string | undefined>;
  /** Writes several values in one atomic step (a single IndexedDB transaction / file write). */
  putMany(ns: Namespace, entries: ReadonlyArray<readonly [string, string]>): Promise<void>;
  /**
   * Puts and deletes values across namespaces in one atomic step (one IndexedDB transaction /
   * one file write): a message and its send job land together or not at all.
   */
  batch(writes: readonly KvWrite[]): Promise<void>;
  /** Deletes a value (no error when absent). */
  delete(ns: Namespace, key: string): Promise<void>;
  /** @returns every `[key, value]` of a namespace. */
  list(ns: Namespace): Promise<Array<[string, string]>>;
  /** Deletes the given namespaces (all when omitted). */
  clear(namespaces?: readonly Namespace[]): Promise<void>;
}

/** In-memory backend (Node, tests). Values are strings, so callers never share mutable objects. */
export class MemoryKvBackend implements KvBackend {
  private readonly data = new Map<Namespace, Map<string, string>>();

  private ns(ns: Namespace): Map<string, string> {
    let m = this.data.get(ns);
    if (!m) {
      m = new Map();
      this.data.set(ns, m);
    }
    return m;
  }

  /** @inheritdoc */
  async get(ns: Namespace, key: string): Promise<string | undefined> {
    return this.ns(ns).get(key);
  }

  /** @inheritdoc */
  async putMany(ns: Namespace, entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const m = this.ns(ns);
    for (const [k, v] of entries) m.set(k, v);
  }

  /** @inheritdoc */
  async batch(writes: readonly KvWrite[]): Promise<void> {
    for (const w of writes) {
      if (w.value === undefined) this.ns(w.ns).delete(w.key);
      else this.ns(w.ns).set(w.key, w.value);
    }
  }

  /** @inheritdoc */
  async delete(ns: Namespace, key: string): Promise<void> {
    this.ns(ns).delete(key);
  }

  /** @inheritdoc */
  async list(ns: Namespace): Promise<Array<[string, string]>> {
    return [...this.ns(ns).entries()];
  }

  /** @inheritdoc */
  async clear(namespaces?: readonly Namespace[]): Promise<void> {
    if (!namespaces) this.data.clear();
    else for (const n of namespaces) this.data.delete(n);
  }
}
