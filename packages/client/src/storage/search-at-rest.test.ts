import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory } from 'fake-indexeddb';
import { afterAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../messages/message.schema.js';
import { createFileStore } from '../node/file-backend.js';
import { randomBytes, toBase64Url, utf8 } from '../protocol/bytes.js';
import { createIndexedDbStore } from './indexeddb-backend.js';
import { indexGrams, normalize } from './search-text.js';

const TEXTS = [
  'Zanzibar rendezvous at quartz harbour',
  '東京タワーで待ち合わせ',
  '서울역 광장에서 보자',
  '北京大学图书馆见',
];

function msg(i: number, text: string): StoredMessage {
  return {
    id: `rest-${i}`,
    conversationId: 'conv-rest',
    senderUserId: 'u1',
    senderDeviceId: 1,
    direction: 'in',
    kind: 'text',
    text,
    sentAt: 1_000 + i,
    status: 'received',
  };
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('request failed'));
  });
}

/** Every key and value of every object store, as raw bytes read without the store's keys. */
async function rawDump(
  factory: IDBFactory,
  name: string,
): Promise<{ keys: Map<string, string[]>; bytes: string }> {
  const db = await request(factory.open(name));
  const keys = new Map<string, string[]>();
  let bytes = '';
  for (const storeName of Array.from(db.objectStoreNames)) {
    const store = db.transaction(storeName, 'readonly').objectStore(storeName);
    const [ks, vs] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    keys.set(storeName, ks.map(String));
    bytes += ks.map(String).join('\n');
    for (const v of vs as Array<{ iv?: Uint8Array; ct?: ArrayBuffer }>) {
      if (v?.ct instanceof ArrayBuffer) bytes += String.fromCharCode(...new Uint8Array(v.ct));
    }
  }
  db.close();
  return { keys, bytes };
}

const latin1 = (text: string) => String.fromCharCode(...utf8(text));

describe('search index at rest', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('when messages are indexed in IndexedDB, then no stored byte holds their text or an n-gram of it', async () => {
    const factory = new IDBFactory();
    const store = await createIndexedDbStore('rest', factory);
    for (const [i, t] of TEXTS.entries()) await store.putMessage(msg(i, t));
    expect((await store.searchMessages('quartz')).map((h) => h.messageId)).toEqual(['rest-0']);
    expect((await store.searchMessages('タワー')).map((h) => h.messageId)).toEqual(['rest-1']);

    const { keys, bytes } = await rawDump(factory, 'rest');
    const index = keys.get('search-index')!;
    expect(index.length).toBeGreaterThan(40);
    // Keys are HMAC tags and numbers only: no n-gram rests in clear.
    for (const k of index) expect(k).toMatch(/^(meta|d\/\d{8}|g\/[A-Za-z0-9_-]{22}\/\d{8})$/);
    for (const text of TEXTS) {
      for (const word of text.split(' ').filter((w) => w.length >= 3)) {
        expect(bytes).not.toContain(latin1(word));
        expect(bytes.toLowerCase()).not.toContain(latin1(word.toLowerCase()));
      }
      // Every CJK n-gram of at least two characters, in UTF-8 and UTF-16 alike.
      for (const g of indexGrams(normalize(text).text)) {
        if (g.length < 2 || /^[\x20-\x7e]+$/.test(g)) continue;
        expect(bytes).not.toContain(latin1(g));
        expect(bytes).not.toContain(g);
      }
    }
  });

  it('when the CLI file store indexes messages, then search survives a reopen and the file holds no text', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-search-'));
    dirs.push(dir);
    const path = join(dir, 'u.state');
    const exportKey = toBase64Url(randomBytes(64));
    const store = await createFileStore(path, exportKey);
    for (const [i, t] of TEXTS.entries()) await store.putMessage(msg(i, t));
    expect((await store.searchMessages('서울역')).map((h) => h.messageId)).toEqual(['rest-2']);

    const again = await createFileStore(path, exportKey);
    expect((await again.searchMessages('rendezvous')).map((h) => h.messageId)).toEqual(['rest-0']);
    expect((await again.searchMessages('图书馆')).map((h) => h.messageId)).toEqual(['rest-3']);
    const raw = await readFile(path, 'latin1');
    for (const word of ['Zanzibar', 'rendezvous', 'quartz']) expect(raw).not.toContain(word);
    expect(raw).not.toContain(latin1('東京'));
  });
});
