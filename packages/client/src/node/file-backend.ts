import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fromBase64, randomBytes, toBase64, utf8 } from '../protocol/bytes.js';
import { keysInRange, type KeyRange, type KvBackend, type KvWrite, type Namespace } from '../storage/kv-backend.js';
import { KvProtocolStore } from '../storage/kv-protocol-store.js';
import type { ProtocolStore } from '../storage/protocol-store.js';

type Data = Partial<Record<Namespace, Record<string, string>>>;

/**
 * Node file backend (CLI): the whole state in one file, written atomically (temp + rename) with
 * mode 0600, sealed with AES-256-GCM under a key derived from the OPAQUE export key, so the
 * file is useless without the password.
 */
export class FileKvBackend implements KvBackend {
  private data: Data = {};
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    private readonly key: CryptoKey,
    private readonly hmac: CryptoKey,
  ) {}

  /**
   * Opens (or starts) the state file.
   * @param path file path
   * @param exportKey OPAQUE export key (base64url) from login
   * @returns the backend
   * @throws {Error} when the file exists but does not open with this key (e.g. password changed)
   */
  static async open(path: string, exportKey: string): Promise<FileKvBackend> {
    return FileKvBackend.openWithKey(path, await deriveStateKey(exportKey));
  }

  /**
   * Opens (or starts) the state file with its raw sealing key (see {@link deriveStateKey}): what
   * a saved CLI session keeps so later commands need no password.
   * @param path file path
   * @param stateKey the 32-byte AES-256-GCM key
   * @returns the backend
   * @throws {Error} when the file exists but does not open with this key
   */
  static async openWithKey(path: string, stateKey: Uint8Array<ArrayBuffer>): Promise<FileKvBackend> {
    const key = await crypto.subtle.importKey('raw', stateKey, 'AES-GCM', false, ['encrypt', 'decrypt']);
    // The history index key: its own HKDF label under the state key (stable across opens).
    const ikm = await crypto.subtle.importKey('raw', stateKey, 'HKDF', false, ['deriveKey']);
    const hmac = await crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: utf8('cipherchat/cli-state/index/v1') },
      ikm,
      { name: 'HMAC', hash: 'SHA-256', length: 256 },
      false,
      ['sign'],
    );
    const backend = new FileKvBackend(path, key, hmac);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      const sealed = JSON.parse(text) as { iv: string; ct: string };
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64(sealed.iv), additionalData: utf8(path) },
        key,
        fromBase64(sealed.ct),
      );
      backend.data = JSON.parse(new TextDecoder().decode(plain)) as Data;
    }
    return backend;
  }

  private async persist(): Promise<void> {
    const snapshot = JSON.stringify(this.data);
    this.writing = this.writing.then(async () => {
      const iv = randomBytes(12);
      const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8(this.path) }, this.key, utf8(snapshot));
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ iv: toBase64(iv), ct: toBase64(ct) }), { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, this.path);
    });
    await this.writing;
  }

  /** @inheritdoc */
  async get(ns: Namespace, key: string): Promise<string | undefined> {
    return this.data[ns]?.[key];
  }

  /** @inheritdoc */
  async putMany(ns: Namespace, entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const m = (this.data[ns] ??= {});
    for (const [k, v] of entries) m[k] = v;
    await this.persist();
  }

  /** @inheritdoc */
  async batch(writes: readonly KvWrite[]): Promise<void> {
    for (const w of writes) {
      const m = (this.data[w.ns] ??= {});
      if (w.value === undefined) delete m[w.key];
      else m[w.key] = w.value;
    }
    await this.persist();
  }

  /** @inheritdoc */
  async delete(ns: Namespace, key: string): Promise<void> {
    if (this.data[ns]) delete this.data[ns][key];
    await this.persist();
  }

  /** @inheritdoc */
  async list(ns: Namespace): Promise<Array<[string, string]>> {
    return Object.entries(this.data[ns] ?? {});
  }

  /** @inheritdoc */
  async clear(namespaces?: readonly Namespace[]): Promise<void> {
    if (!namespaces) this.data = {};
    else for (const n of namespaces) delete this.data[n];
    await this.persist();
  }

  /** @inheritdoc */
  async getMany(ns: Namespace, keys: readonly string[]): Promise<Array<string | undefined>> {
    const m = this.data[ns] ?? {};
    return keys.map((k) => (Object.hasOwn(m, k) ? m[k] : undefined));
  }

  /** @inheritdoc */
  async keys(ns: Namespace, range: KeyRange, options?: { reverse?: boolean; limit?: number }): Promise<string[]> {
    return keysInRange(Object.keys(this.data[ns] ?? {}), range, options);
  }

  /** @inheritdoc */
  async count(ns: Namespace, range: KeyRange): Promise<number> {
    return keysInRange(Object.keys(this.data[ns] ?? {}), range).length;
  }

  /** @inheritdoc */
  async indexKey(): Promise<CryptoKey> {
    return this.hmac;
  }
}

/**
 * The state file's sealing key: HKDF-SHA-256 of the OPAQUE export key (the same bytes
 * `FileKvBackend.open` always derived, so existing files still open).
 * @param exportKey OPAQUE export key (base64url)
 * @returns the 32-byte AES-256-GCM key
 */
export async function deriveStateKey(exportKey: string): Promise<Uint8Array<ArrayBuffer>> {
  const ikm = await crypto.subtle.importKey('raw', fromBase64(exportKey), 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: utf8('cipherchat/cli-state/v1') },
    ikm,
    256,
  );
  return new Uint8Array(bits);
}

/**
 * A file-backed store for Node (the CLI), opened with the state key of a saved session.
 * @param path state file
 * @param stateKey see {@link deriveStateKey}
 * @returns the store
 */
export async function createFileStoreWithKey(path: string, stateKey: Uint8Array<ArrayBuffer>): Promise<ProtocolStore> {
  return new KvProtocolStore(await FileKvBackend.openWithKey(path, stateKey));
}

/**
 * A file-backed store for Node (the CLI).
 * @param path state file
 * @param exportKey OPAQUE export key
 * @returns the store
 */
export async function createFileStore(path: string, exportKey: string | undefined): Promise<ProtocolStore> {
  if (!exportKey) throw new Error('the CLI state file opens only after a password login');
  return new KvProtocolStore(await FileKvBackend.open(path, exportKey));
}
