import { utf8 } from '../protocol/bytes.js';
import { generateIndexKey, type KeyRange, type KvBackend, type KvWrite, type Namespace } from './kv-backend.js';
import { KvProtocolStore } from './kv-protocol-store.js';
import type { ProtocolStore } from './protocol-store.js';

const NAMESPACES: readonly Namespace[] = [
  'local',
  'prekey',
  'signed-prekey',
  'session',
  'identity',
  'meta',
  'message',
  'outbox',
  'history-index',
  'unread-index',
  'mention-index',
  'media',
  'search-index',
];
const KEYRING = 'keyring';
const DEVICE_KEY_ID = 'device-key';
const INDEX_KEY_ID = 'index-key';
/**
 * Version 2 added the `outbox` store, version 3 the history index stores and the `media` cache
 * (the upgrade creates whatever store is missing; the index itself is built by the store on first use),
 * version 4 the `search-index` store (local search, built on first use as well).
 */
const DB_VERSION = 4;

/** The IndexedDB range of a {@link KeyRange} (undefined: every key). */
function idbRange(range: KeyRange): IDBKeyRange | undefined {
  const { lower, upper } = range;
  if (lower !== undefined && upper !== undefined) return lower < upper ? IDBKeyRange.bound(lower, upper, false, true) : undefined;
  if (lower !== undefined) return IDBKeyRange.lowerBound(lower);
  if (upper !== undefined) return IDBKeyRange.upperBound(upper, true);
  return undefined;
}

/** An empty range (`lower >= upper`) matches nothing; IndexedDB would throw on it. */
function isEmpty(range: KeyRange): boolean {
  return range.lower !== undefined && range.upper !== undefined && range.lower >= range.upper;
}

/**
 * Reads a non-extractable key from the keyring, creating it when absent. `add` (not `put`): if
 * another tab created it meanwhile, theirs is kept and used.
 */
async function keyringKey(db: IDBDatabase, id: string, generate: () => Promise<CryptoKey>): Promise<CryptoKey> {
  const existing = await request(db.transaction(KEYRING, 'readonly').objectStore(KEYRING).get(id));
  if (existing instanceof CryptoKey) return existing;
  const key = await generate();
  const tx = db.transaction(KEYRING, 'readwrite');
  tx.objectStore(KEYRING).add(key, id);
  try {
    await done(tx);
    return key;
  } catch {
    const theirs = await request(db.transaction(KEYRING, 'readonly').objectStore(KEYRING).get(id));
    if (!(theirs instanceof CryptoKey)) throw new Error(`could not create the ${id}`);
    return theirs;
  }
}

/** What rests in IndexedDB for each record: never the clear value. */
interface SealedValue {
  /** 12-byte random AES-GCM nonce. */
  iv: Uint8Array;
  /** AES-256-GCM ciphertext and tag of the UTF-8 JSON value. */
  ct: ArrayBuffer;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/**
 * IndexedDB backend that encrypts every value with a non-extractable AES-256-GCM "device key".
 * The CryptoKey object itself is stored in the same database (structured clone keeps it
 * non-extractable): script can use it through WebCrypto but cannot export its bytes. The browser
 * still writes those bytes into the profile's files, so a copy of the profile opens every record:
 * this is not a lock (docs/client.md, "At rest in the browser"). The record's namespace and key
 * are the associated data, so sealed values cannot be swapped between records.
 */
export class IndexedDbKvBackend implements KvBackend {
  private hmac: Promise<CryptoKey> | undefined;

  private constructor(
    private readonly db: IDBDatabase,
    private readonly key: CryptoKey,
  ) {}

  /**
   * Opens (or creates) the database and its device key.
   * @param name database name (one per account and origin)
   * @param factory the IDBFactory (`globalThis.indexedDB` in browsers; fake-indexeddb in tests)
   * @returns the backend
   */
  static async open(name: string, factory: IDBFactory = globalThis.indexedDB): Promise<IndexedDbKvBackend> {
    const openReq = factory.open(name, DB_VERSION);
    openReq.onupgradeneeded = () => {
      const db = openReq.result;
      for (const ns of [...NAMESPACES, KEYRING]) if (!db.objectStoreNames.contains(ns)) db.createObjectStore(ns);
    };
    const db = await request(openReq);
    const key = await keyringKey(db, DEVICE_KEY_ID, () =>
      globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']),
    );
    return new IndexedDbKvBackend(db, key);
  }

  private async seal(ns: Namespace, key: string, value: string): Promise<SealedValue> {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const ct = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: utf8(`${ns}/${key}`) },
      this.key,
      utf8(value),
    );
    return { iv, ct };
  }

  private async open(ns: Namespace, key: string, sealed: unknown): Promise<string> {
    const s = sealed as Partial<SealedValue> | undefined;
    if (!s || !(s.iv instanceof Uint8Array) || !(s.ct instanceof ArrayBuffer)) {
      throw new Error(`corrupt record ${ns}/${key}`);
    }
    const plain = await globalThis.crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: s.iv as Uint8Array<ArrayBuffer>, additionalData: utf8(`${ns}/${key}`) },
      this.key,
      s.ct,
    );
    return new TextDecoder().decode(plain);
  }

  /** @inheritdoc */
  async get(ns: Namespace, key: string): Promise<string | undefined> {
    const sealed = await request(this.db.transaction(ns, 'readonly').objectStore(ns).get(key));
    return sealed === undefined ? undefined : this.open(ns, key, sealed);
  }

  /** @inheritdoc */
  async putMany(ns: Namespace, entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    if (entries.length === 0) return;
    // Encrypt first: an IndexedDB transaction commits as soon as it is idle across an await.
    const sealed = await Promise.all(entries.map(async ([k, v]) => [k, await this.seal(ns, k, v)] as const));
    const tx = this.db.transaction(ns, 'readwrite');
    const store = tx.objectStore(ns);
    for (const [k, s] of sealed) store.put(s, k);
    await done(tx);
  }

  /** @inheritdoc */
  async batch(writes: readonly KvWrite[]): Promise<void> {
    if (writes.length === 0) return;
    // Seal everything before the transaction opens: it would commit at the first idle await.
    const sealed = await Promise.all(
      writes.map(async (w) => ({ ...w, sealed: w.value === undefined ? undefined : await this.seal(w.ns, w.key, w.value) })),
    );
    const tx = this.db.transaction([...new Set(writes.map((w) => w.ns))], 'readwrite');
    for (const w of sealed) {
      if (w.sealed === undefined) tx.objectStore(w.ns).delete(w.key);
      else tx.objectStore(w.ns).put(w.sealed, w.key);
    }
    await done(tx);
  }

  /** @inheritdoc */
  async delete(ns: Namespace, key: string): Promise<void> {
    const tx = this.db.transaction(ns, 'readwrite');
    tx.objectStore(ns).delete(key);
    await done(tx);
  }

  /** @inheritdoc */
  async list(ns: Namespace): Promise<Array<[string, string]>> {
    const tx = this.db.transaction(ns, 'readonly');
    const store = tx.objectStore(ns);
    const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    return Promise.all(keys.map(async (k, i) => [String(k), await this.open(ns, String(k), values[i])] as [string, string]));
  }

  /** @inheritdoc */
  async clear(namespaces: readonly Namespace[] = NAMESPACES): Promise<void> {
    const tx = this.db.transaction([...namespaces], 'readwrite');
    for (const ns of namespaces) tx.objectStore(ns).clear();
    await done(tx);
  }

  /** @inheritdoc */
  async getMany(ns: Namespace, keys: readonly string[]): Promise<Array<string | undefined>> {
    if (keys.length === 0) return [];
    const store = this.db.transaction(ns, 'readonly').objectStore(ns);
    const sealed = await Promise.all(keys.map((k) => request(store.get(k))));
    return Promise.all(sealed.map((v, i) => (v === undefined ? undefined : this.open(ns, keys[i]!, v))));
  }

  /** @inheritdoc */
  async keys(ns: Namespace, range: KeyRange, options: { reverse?: boolean; limit?: number } = {}): Promise<string[]> {
    if (isEmpty(range) || options.limit === 0) return [];
    const store = this.db.transaction(ns, 'readonly').objectStore(ns);
    if (!options.reverse) return (await request(store.getAllKeys(idbRange(range), options.limit))).map(String);
    // Newest first: a key cursor walking down, stopped at the limit (nothing is decrypted).
    const found: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = store.openKeyCursor(idbRange(range), 'prev');
      req.onerror = () => reject(req.error ?? new Error('IndexedDB cursor failed'));
      req.onsuccess = () => {
        const cursor = req.result;
        if (!cursor) return resolve();
        found.push(String(cursor.key));
        if (options.limit !== undefined && found.length >= options.limit) return resolve();
        cursor.continue();
      };
    });
    return found;
  }

  /** @inheritdoc */
  async count(ns: Namespace, range: KeyRange): Promise<number> {
    if (isEmpty(range)) return 0;
    return request(this.db.transaction(ns, 'readonly').objectStore(ns).count(idbRange(range)));
  }

  /**
   * A second non-extractable key next to the device key (HMAC-SHA-256, same protection: usable
   * by script, its bytes not exportable). An AES-GCM key cannot derive another, hence its own.
   * @inheritdoc
   */
  indexKey(): Promise<CryptoKey> {
    this.hmac ??= keyringKey(this.db, INDEX_KEY_ID, generateIndexKey);
    return this.hmac;
  }

  /** Closes the database connection. */
  close(): void {
    this.db.close();
  }
}

/**
 * The browser store: IndexedDB, every record sealed with a non-extractable device key.
 * @param name database name, e.g. `cipherchat-<userId>`
 * @param factory IDBFactory (defaults to the browser's)
 * @returns the store
 */
export async function createIndexedDbStore(
  name: string,
  factory: IDBFactory = globalThis.indexedDB,
): Promise<ProtocolStore> {
  return new KvProtocolStore(await IndexedDbKvBackend.open(name, factory));
}
