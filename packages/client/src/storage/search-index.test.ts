import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../messages/message.schema.js';
import { createIndexedDbStore } from './indexeddb-backend.js';
import { MemoryKvBackend } from './kv-backend.js';
import { createMemoryStore, KvProtocolStore } from './kv-protocol-store.js';
import type { ProtocolStore } from './protocol-store.js';

let seq = 0;
function msg(text: string, over: Partial<StoredMessage> = {}): StoredMessage {
  seq += 1;
  return {
    id: `m${seq}`,
    conversationId: 'c1',
    senderUserId: 'u1',
    senderDeviceId: 1,
    direction: 'in',
    kind: 'text',
    text,
    sentAt: 1_000 + seq,
    status: 'received',
    ...over,
  };
}

const ids = async (store: ProtocolStore, q: string, opts = {}) =>
  (await store.searchMessages(q, opts)).map((h) => h.messageId);

describe.each([
  ['memory', async () => createMemoryStore()],
  ['IndexedDB (fake-indexeddb)', async () => createIndexedDbStore('s', new IDBFactory())],
])('%s store: local search', (_, make) => {
  it('when messages hold a phrase, then substrings, accents and CJK phrases find them, newest first', async () => {
    const store = await make();
    const tokyo = msg('明日は東京タワーに行きます');
    const seoul = msg('서울역에서 만나요');
    const peking = msg('我在北京大学读书');
    const cafe = msg('Meet me at the Café de Flore');
    const cafe2 = msg('another cafe, later', { conversationId: 'c2' });
    const noise = msg('nothing to see here');
    for (const m of [tokyo, seoul, peking, cafe, cafe2, noise]) await store.putMessage(m);

    expect(await ids(store, '東京タワー')).toEqual([tokyo.id]);
    expect(await ids(store, 'タワ')).toEqual([tokyo.id]);
    expect(await ids(store, '京')).toEqual([peking.id, tokyo.id]);
    expect(await ids(store, '서울역')).toEqual([seoul.id]);
    expect(await ids(store, '울역')).toEqual([seoul.id]);
    expect(await ids(store, '北京大学')).toEqual([peking.id]);
    expect(await ids(store, '京大')).toEqual([peking.id]);
    expect(await ids(store, 'CAFÉ')).toEqual([cafe2.id, cafe.id]);
    expect(await ids(store, 'cafe de fl')).toEqual([cafe.id]);
    expect(await ids(store, 'e de f')).toEqual([cafe.id]);
    expect(await ids(store, 'cafe', { conversationId: 'c2' })).toEqual([cafe2.id]);
    expect(await ids(store, 'cafe', { limit: 1 })).toEqual([cafe2.id]);
    // Every trigram of "flore cafe" is in the text, but not the phrase: no false hit.
    expect(await ids(store, 'de cafe')).toEqual([]);
    expect(await ids(store, 'zzz')).toEqual([]);
    const [hit] = await store.searchMessages('flore');
    expect(hit).toMatchObject({ conversationId: 'c1', messageId: cafe.id, sentAt: cafe.sentAt });
    expect(hit!.snippet.text.slice(hit!.snippet.start, hit!.snippet.end)).toBe('Flore');
  });

  it('when a message is edited, deleted, tombstoned or expires, then only what it says now is found', async () => {
    const store = await make();
    const edited = msg('the old wording');
    const deleted = msg('delete me please');
    const tomb = msg('tombstone text');
    const expiring = msg('fleeting words', { expiresAt: 5_000 });
    for (const m of [edited, deleted, tomb, expiring]) await store.putMessage(m);
    expect(await ids(store, 'wording')).toEqual([edited.id]);

    await store.putMessage({
      ...edited,
      text: 'the new phrasing',
      editedAt: 9,
      edits: [{ text: edited.text!, at: 1 }],
    });
    await store.deleteMessage(deleted.id);
    await store.putMessage({ ...tomb, text: undefined, deletedAt: 10 });
    expect(await ids(store, 'wording')).toEqual([]);
    expect(await ids(store, 'phrasing')).toEqual([edited.id]);
    expect(await ids(store, 'delete me')).toEqual([]);
    expect(await ids(store, 'tombstone')).toEqual([]);
    // Past its deadline it is never found, even before the timer removed it.
    expect(await ids(store, 'fleeting', { now: 4_999 })).toEqual([expiring.id]);
    expect(await ids(store, 'fleeting', { now: 5_000 })).toEqual([]);
    await store.deleteMessage(expiring.id);
    expect(await ids(store, 'fleeting', { now: 0 })).toEqual([]);
    // A status change leaves the index as it is.
    await store.putMessage({ ...edited, text: 'the new phrasing', status: 'read' });
    expect(await ids(store, 'phrasing')).toEqual([edited.id]);
  });

  it('when an attachment has a caption and a file name, then both are searchable', async () => {
    const store = await make();
    const m = msg('holiday pictures', {
      kind: 'attachment',
      attachment: {
        id: 'a1',
        key: 'A'.repeat(43) + '=',
        digest: 'B'.repeat(43) + '=',
        size: 10,
        contentType: 'image/png',
        fileName: 'Strand.png',
      },
    });
    await store.putMessage(m);
    expect(await ids(store, 'strand')).toEqual([m.id]);
    expect(await ids(store, 'holiday')).toEqual([m.id]);
  });
});

describe('search index build', () => {
  it('when a store has history but no index, then the first query builds it, with progress', async () => {
    const backend = new MemoryKvBackend();
    const before = new KvProtocolStore(backend);
    const old = msg('written before search existed');
    await before.putMessage(old);
    // As a store from an older version: no search index at all.
    await backend.clear(['search-index']);
    const store = new KvProtocolStore(backend);
    const progress: string[] = [];
    await store.prepareSearch((p) => progress.push(`${p.phase}:${p.done}/${p.total ?? '?'}`));
    expect(progress).toContain('reading:1/1');
    expect(await ids(store, 'before search')).toEqual([old.id]);
    const later = msg('and after search existed');
    await store.putMessage(later);
    expect(await ids(store, 'search existed')).toEqual([later.id, old.id]);
  });

  it('when the index cannot be updated, then the message is still stored and the next query rebuilds the index', async () => {
    const backend = new MemoryKvBackend();
    const store = new KvProtocolStore(backend);
    await store.putMessage(msg('first message'));
    const getMany = backend.getMany.bind(backend);
    let broken = true;
    backend.getMany = async (ns, keys) => {
      if (ns === 'search-index' && broken) throw new Error('damaged record');
      return getMany(ns, keys);
    };
    const second = msg('second message');
    await store.putMessage(second);
    broken = false;
    expect((await store.getMessage(second.id))?.text).toBe('second message');
    expect(await backend.get('search-index', 'meta')).toBeUndefined();
    expect(await ids(store, 'message')).toHaveLength(2);
    expect(await ids(store, 'second')).toEqual([second.id]);
  });

  it('when rebuilt from a source, then exactly that source is indexed (hits are checked against the store)', async () => {
    const store = createMemoryStore();
    const local = msg('local only message');
    const fromArchive = msg('restored from the archive');
    const notStored = msg('an archive message missing locally');
    await store.putMessage(local);
    await store.putMessage(fromArchive);
    async function* source() {
      yield [fromArchive, notStored];
    }
    expect(await store.rebuildSearch(undefined, source())).toBe(2);
    expect(await ids(store, 'archive')).toEqual([fromArchive.id]);
    expect(await ids(store, 'local only')).toEqual([]);
    expect(await store.rebuildSearch()).toBe(2);
    expect(await ids(store, 'local only')).toEqual([local.id]);
  });

  it('when many messages share n-grams across shards, then every one is found, newest first', async () => {
    const backend = new MemoryKvBackend();
    const store = new KvProtocolStore(backend);
    // Written straight into history (a restore), then indexed by a rebuild: past one shard.
    const all = Array.from({ length: 2_100 }, (_, i) => msg(`common words number ${i}; 東京`));
    await backend.batch(all.map((m) => ({ ns: 'message', key: m.id, value: JSON.stringify(m) })));
    expect(await store.rebuildSearch()).toBe(2_100);
    const live = msg('common words, live');
    await store.putMessage(live);
    const hits = await store.searchMessages('common words', { limit: 500 });
    expect(hits).toHaveLength(500);
    expect(hits[0]!.messageId).toBe(live.id);
    expect(hits.map((h) => h.sentAt)).toEqual([...hits.map((h) => h.sentAt)].sort((a, b) => b - a));
    expect(await ids(store, 'number 12;')).toEqual([all[12]!.id]);
    expect(await ids(store, 'number 2050; 東')).toEqual([all[2050]!.id]);
    expect(await ids(store, 'words, live')).toEqual([live.id]);
  });
});
