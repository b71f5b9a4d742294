/** Record namespaces of the key-value layout (one IndexedDB index / map per namespace). */
/** WebCrypto's key type, named without the DOM library (protocol/ builds without it). */
export type WebCryptoKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;

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
  | 'media'
  /** History index: `<conversation tag>/<time>/<message id>` (see history-index.ts). */
  | 'history-index'
  /** The same keys, for incoming messages not read yet. */
  | 'unread-index'
  /** The same keys, for unread messages that mention someone (value: the mentioned user ids). */
  | 'mention-index'
  /** Local search: sealed posting lists under HMAC tags of n-grams (see search-index.ts). */
  | 'search-index';

/** Keys from `lower` (inclusive) to `upper` (exclusive), compared by UTF-16 code units (IndexedDB order). */
export interface KeyRange {
  readonly lower?: string;
  readonly upper?: string;
}

/**
 * The keys of `all` within a range, in key order (or reverse), at most `limit`: the in-memory
 * equivalent of an IndexedDB key cursor.
 * @param all every key of a namespace
 * @param range the range
 * @param options `reverse` starts at the top; `limit` caps the answer
 * @returns the keys
 */
export function keysInRange(
  all: Iterable<string>,
  range: KeyRange,
  options: { reverse?: boolean; limit?: number } = {},
): string[] {
  const inRange: string[] = [];
  for (const k of all) {
    if ((range.lower === undefined || k >= range.lower) && (range.upper === undefined || k < range.upper)) inRange.push(k);
  }
  inRange.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (options.reverse) inRange.reverse();
  return options.limit === undefined ? inRange : inRange.slice(0, options.limit);
}

/** A fresh non-extractable HMAC-SHA-256 key (the index key of stores that keep none of their own). */
export function generateIndexKey(): Promise<WebCryptoKey> {
  return globalThis.crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']) as Promise<WebCryptoKey>;
}

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
  /** @returns the values of several keys of one namespace (undefined where absent), in one read. */
  getMany(ns: Namespace, keys: readonly string[]): Promise<Array<string | undefined>>;
  /** @returns the keys of a namespace within `range`, in key order (or `reverse`), at most `limit`; no value is opened. */
  keys(ns: Namespace, range: KeyRange, options?: { reverse?: boolean; limit?: number }): Promise<string[]>;
  /** @returns how many keys of a namespace lie within `range` (no value is opened). */
  count(ns: Namespace, range: KeyRange): Promise<number>;
  /**
   * @returns this store's HMAC-SHA-256 key for index keys (a keyed hash of a conversation id
   * names it in the history index), stable for as long as the store's records open.
   */
  indexKey(): Promise<WebCryptoKey>;
}

/** In-memory backend (Node, tests). Values are strings, so callers never share mutable objects. */
export class MemoryKvBackend implements KvBackend {
  private readonly data = new Map<Namespace, Map<string, string>>();
  private hmac: Promise<WebCryptoKey> | undefined;

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

  /** @inheritdoc */
  async getMany(ns: Namespace, keys: readonly string[]): Promise<Array<string | undefined>> {
    const m = this.ns(ns);
    return keys.map((k) => m.get(k));
  }

  /** @inheritdoc */
  async keys(ns: Namespace, range: KeyRange, options?: { reverse?: boolean; limit?: number }): Promise<string[]> {
    return keysInRange(this.ns(ns).keys(), range, options);
  }

  /** @inheritdoc */
  async count(ns: Namespace, range: KeyRange): Promise<number> {
    return keysInRange(this.ns(ns).keys(), range).length;
  }

  /** @inheritdoc */
  indexKey(): Promise<WebCryptoKey> {
    this.hmac ??= generateIndexKey();
    return this.hmac;
  }
}
