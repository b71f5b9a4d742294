import { IDBFactory } from 'fake-indexeddb';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../messages/message.schema.js';
import { fromUtf8, randomBytes, toBase64Url } from '../protocol/bytes.js';
import { createFileStore } from '../node/file-backend.js';
import { IndexedDbKvBackend } from './indexeddb-backend.js';
import { MemoryKvBackend, type KvBackend, type KvWrite, type Namespace } from './kv-backend.js';
import { KvProtocolStore } from './kv-protocol-store.js';
import type { ProtocolStore } from './protocol-store.js';

const C1 = 'conv-1-MARKER-conversation-id';
const C2 = 'conv-2';

/** A text of conversation `conversationId` at time `sentAt`. */
function msg(conversationId: string, i: number, over: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id: `m-${conversationId === C1 ? 'a' : 'b'}-${String(i).padStart(5, '0')}`,
    conversationId,
    senderUserId: 'bob',
    senderDeviceId: 1,
    direction: 'in',
    kind: 'text',
    text: `text ${i}`,
    sentAt: 1_000_000 + i * 10,
    status: 'read',
    ...over,
  };
}

/** Counts the message records a store opens (reads of the `message` namespace). */
class CountingBackend extends MemoryKvBackend {
  opened = 0;
  batches = 0;
  failBatchAt = Infinity;
  override async get(ns: Namespace, key: string) {
    if (ns === 'message') this.opened += 1;
    return super.get(ns, key);
  }
  override async getMany(ns: Namespace, keys: readonly string[]) {
    if (ns === 'message') this.opened += keys.length;
    return super.getMany(ns, keys);
  }
  override async list(ns: Namespace) {
    const all = await super.list(ns);
    if (ns === 'message') this.opened += all.length;
    return all;
  }
  override async batch(writes: readonly KvWrite[]) {
    this.batches += 1;
    if (this.batches >= this.failBatchAt) throw new Error('power cut');
    return super.batch(writes);
  }
}

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function fileStore(): Promise<ProtocolStore> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-hist-'));
  dirs.push(dir);
  return createFileStore(join(dir, 'u.state'), toBase64Url(randomBytes(64)));
}

// The CLI's file store rewrites its whole sealed file per write: it gets a shorter history.
describe.each([
  ['memory', async () => new KvProtocolStore(new MemoryKvBackend()), 600],
  [
    'IndexedDB (fake-indexeddb)',
    async () => new KvProtocolStore(await IndexedDbKvBackend.open('h', new IDBFactory())),
    600,
  ],
  ['file (CLI)', fileStore, 60],
])('%s history index', (_, make, unreadN) => {
  it('when a conversation is paged with a cursor, then the pages are its messages in time order, each once', async () => {
    const store = await make();
    // Stored out of order, two in the same millisecond, plus another conversation interleaved.
    const mine = Array.from({ length: 75 }, (_, i) => msg(C1, i));
    mine.push(msg(C1, 40, { id: 'm-same-ms' }));
    for (const m of [...mine].reverse()) await store.putMessage(m);
    for (let i = 0; i < 30; i++) await store.putMessage(msg(C2, i));
    const order = [...mine]
      .sort((a, b) => a.sentAt - b.sentAt || (a.id < b.id ? -1 : 1))
      .map((m) => m.id);

    const latest = await store.pageMessages(C1, { limit: 20 });
    expect(latest.map((m) => m.id)).toEqual(order.slice(-20));
    const seen = [...latest];
    for (let page = latest; page.length > 0;) {
      page = await store.pageMessages(C1, {
        before: { sentAt: seen[0]!.sentAt, id: seen[0]!.id },
        limit: 20,
      });
      seen.unshift(...page);
    }
    expect(seen.map((m) => m.id)).toEqual(order);
    expect((await store.listMessages(C1)).map((m) => m.id)).toEqual(order);
    expect(await store.listMessages(C2)).toHaveLength(30);
    expect(await store.pageMessages('nobody', { limit: 10 })).toEqual([]);
  });

  it('when messages are edited, deleted, expire or are re-dated, then the pages follow', async () => {
    const store = await make();
    for (let i = 0; i < 10; i++) await store.putMessage(msg(C1, i));
    await store.putMessage({ ...msg(C1, 3), text: 'edited', editedAt: 5 }); // an edit keeps its place
    await store.deleteMessage(msg(C1, 5).id); // delete for me, or the sweeper's expiry
    await store.putMessage({ ...msg(C1, 9), deletedAt: 7, text: undefined }); // a tombstone stays
    await store.putMessage({ ...msg(C1, 0), sentAt: 2_000_000 }); // moved to the end
    const ids = (await store.listMessages(C1)).map((m) => m.id);
    expect(ids).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 0].map((i) => msg(C1, i).id));
    expect((await store.pageMessages(C1, { limit: 2 })).map((m) => m.text)).toEqual([
      undefined,
      'text 0',
    ]);
    expect((await store.getMessage(msg(C1, 3).id))?.text).toBe('edited');
    const before4 = await store.pageMessages(C1, {
      before: { sentAt: msg(C1, 4).sentAt, id: msg(C1, 4).id },
      limit: 10,
    });
    expect(before4.map((m) => m.id)).toEqual([1, 2, 3].map((i) => msg(C1, i).id));
  });

  it(`when ${unreadN} messages are unread, then the count is exact at any history length and follows reads, deletes and mentions`, async () => {
    const store = await make();
    const total = unreadN + unreadN / 2;
    for (let i = 0; i < total; i++) {
      const unread = i >= total - unreadN;
      await store.putMessage(
        msg(C1, i, {
          status: unread ? 'received' : 'read',
          ...(i % 10 === 0 ? { mentions: ['alice'] } : {}),
        }),
      );
    }
    await store.putMessage(msg(C1, total + 1, { direction: 'out', status: 'sent' }));
    await store.putMessage(msg(C2, 1, { status: 'received', mentions: ['alice'] }));
    const first = total - unreadN; // the oldest unread (a multiple of 10: it mentions me)
    expect(await store.unreadSummary(C1, 'alice')).toEqual({
      count: unreadN,
      mentions: unreadN / 10,
    });
    expect(await store.unreadSummary(C1, 'carol')).toEqual({ count: unreadN, mentions: 0 });
    expect(await store.unreadMessageIds(C1)).toHaveLength(unreadN);
    // Read two (one mentioning me), delete one.
    await store.putMessage(msg(C1, first, { status: 'read', mentions: ['alice'] }));
    await store.putMessage(msg(C1, first + 1, { status: 'read' }));
    await store.deleteMessage(msg(C1, first + 2).id);
    expect(await store.unreadSummary(C1, 'alice')).toEqual({
      count: unreadN - 3,
      mentions: unreadN / 10 - 1,
    });
    expect((await store.unreadMessageIds(C1))[0]).toBe(msg(C1, first + 3).id);
    expect(await store.unreadSummary(C2, 'alice')).toEqual({ count: 1, mentions: 1 });
  });

  it('when cleared, then no page or count remains and a new history starts clean', async () => {
    const store = await make();
    await store.putMessage(msg(C1, 1, { status: 'received' }));
    await store.clear();
    expect(await store.pageMessages(C1, { limit: 5 })).toEqual([]);
    expect((await store.unreadSummary(C1)).count).toBe(0);
    await store.putMessage(msg(C1, 2));
    expect((await store.listMessages(C1)).map((m) => m.id)).toEqual([msg(C1, 2).id]);
  });
});

describe('history index cost', () => {
  it('when one page of a big conversation is read, then only that page is opened', async () => {
    const backend = new CountingBackend();
    const store = new KvProtocolStore(backend);
    await store.pageMessages(C1, { limit: 1 }); // builds the (empty) index
    for (let i = 0; i < 1000; i++) await store.putMessage(msg(i % 4 === 0 ? C2 : C1, i));
    backend.opened = 0;
    const page = await store.pageMessages(C1, { limit: 30 });
    expect(page).toHaveLength(30);
    expect(backend.opened).toBe(30);
    backend.opened = 0;
    await store.unreadSummary(C1, 'alice');
    expect(backend.opened).toBe(0);
    await store.listMessages(C2);
    expect(backend.opened).toBe(250);
  });
});

describe('index migration', () => {
  /** A store written before the index existed: message records only, straight into the backend. */
  async function legacy(backend: KvBackend, count: number) {
    const entries = Array.from({ length: count }, (_, i) => {
      const m = msg(i % 3 === 0 ? C2 : C1, i, { status: i >= count - 250 ? 'received' : 'read' });
      return [m.id, JSON.stringify(m)] as const;
    });
    await backend.putMany('message', entries);
    await backend.putMany('meta', [['deviceId', '4']]);
  }

  it('when a store from before the index is opened, then the index is built once and pages and counts are right', async () => {
    const backend = new CountingBackend();
    await legacy(backend, 1500);
    const store = new KvProtocolStore(backend);
    const page = await store.pageMessages(C1, { limit: 10 });
    expect(page.map((m) => m.sentAt)).toEqual([...page.map((m) => m.sentAt)].sort((a, b) => a - b));
    expect(page.at(-1)?.id).toBe(msg(C1, 1499).id);
    expect(await store.listMessages(C1)).toHaveLength(1000);
    const unreadC1 = Array.from({ length: 250 }, (_, k) => 1250 + k).filter(
      (i) => i % 3 !== 0,
    ).length;
    expect((await store.unreadSummary(C1)).count).toBe(unreadC1);
    // A second store over the same records does not build it again.
    backend.opened = 0;
    const again = new KvProtocolStore(backend);
    expect(await again.pageMessages(C1, { limit: 10 })).toEqual(page);
    expect(backend.opened).toBe(10);
  });

  it('when the build is cut off, then the next open resumes where it stopped and ends complete', async () => {
    const backend = new CountingBackend();
    await legacy(backend, 1500);
    backend.batches = 0;
    backend.failBatchAt = 4; // three steps of 200 land, the fourth fails
    await expect(new KvProtocolStore(backend).pageMessages(C1, { limit: 5 })).rejects.toThrow(
      'power cut',
    );
    backend.failBatchAt = Infinity;
    backend.opened = 0;
    const store = new KvProtocolStore(backend);
    expect(await store.listMessages(C1)).toHaveLength(1000);
    // Resumed: the 600 already indexed were not opened again (900 left + the 1000 listed).
    expect(backend.opened).toBe(900 + 1000);
    expect((await store.listMessages(C2)).map((m) => m.id)).toEqual(
      Array.from({ length: 500 }, (_, k) => msg(C2, k * 3).id),
    );
  });

  it('when messages arrive while the index is being built, then they are indexed once and in place', async () => {
    const backend = new MemoryKvBackend();
    await legacy(backend, 900);
    const store = new KvProtocolStore(backend);
    const reading = store.listMessages(C1);
    await Promise.all([store.putMessage(msg(C1, 5000)), store.deleteMessage(msg(C1, 1).id)]);
    await reading;
    const ids = (await store.listMessages(C1)).map((m) => m.id);
    expect(ids).toHaveLength(600);
    expect(ids.at(-1)).toBe(msg(C1, 5000).id);
    expect(ids).not.toContain(msg(C1, 1).id);
  });
});

describe('the index at rest', () => {
  it('when IndexedDB is read raw, then no index key or value names the conversation, and its tag is keyed', async () => {
    const factory = new IDBFactory();
    const store = new KvProtocolStore(await IndexedDbKvBackend.open('raw', factory));
    for (let i = 0; i < 5; i++)
      await store.putMessage(msg(C1, i, { status: 'received', mentions: ['alice'] }));
    expect((await store.unreadSummary(C1, 'alice')).count).toBe(5);
    const db = await idb(factory.open('raw'));
    const dump: string[] = [];
    for (const name of ['history-index', 'unread-index', 'mention-index', 'message', 'meta']) {
      const [keys, values] = await Promise.all([
        idb(db.transaction(name).objectStore(name).getAllKeys()),
        idb(db.transaction(name).objectStore(name).getAll()),
      ]);
      expect(keys.length).toBeGreaterThan(0);
      dump.push(...keys.map(String), ...values.map((v) => sealedText(v)));
    }
    db.close();
    const text = dump.join('\n');
    expect(text).not.toContain('MARKER-conversation-id');
    expect(text).not.toContain('conv-1');
    // Another store (another index key) tags the same conversation differently.
    const otherFactory = new IDBFactory();
    const other = new KvProtocolStore(await IndexedDbKvBackend.open('raw', otherFactory));
    await other.putMessage(msg(C1, 1));
    const tagIn = async (f: IDBFactory) => {
      const d = await idb(f.open('raw'));
      const keys = await idb(
        d.transaction('history-index').objectStore('history-index').getAllKeys(),
      );
      d.close();
      return String(keys[0]).split('/')[0];
    };
    const mine = await tagIn(factory);
    expect(await tagIn(otherFactory)).not.toBe(mine);
    expect(mine).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('when the CLI file is read raw, then the conversation id does not appear', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-hist-raw-'));
    dirs.push(dir);
    const path = join(dir, 'u.state');
    const store = await createFileStore(path, toBase64Url(randomBytes(64)));
    await store.putMessage(msg(C1, 1, { status: 'received' }));
    expect(await store.pageMessages(C1, { limit: 1 })).toHaveLength(1);
    expect(await readFile(path, 'utf8')).not.toContain('MARKER-conversation-id');
  });
});

function sealedText(v: unknown): string {
  const ct = (v as { ct?: ArrayBuffer } | undefined)?.ct;
  let text = JSON.stringify(v);
  if (ct instanceof ArrayBuffer) {
    try {
      text += fromUtf8(ct);
    } catch {
      // ciphertext is not UTF-8: nothing readable
    }
  }
  return text;
}

function idb<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((res, rej) => {
    req.onsuccess = () => res(req.result);
    req.onerror = () => rej(req.error);
  });
}
