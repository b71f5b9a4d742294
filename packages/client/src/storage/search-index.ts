import type { StoredMessage } from '../messages/message.schema.js';
import { toBase64Url, utf8 } from '../protocol/bytes.js';
import { readMessage } from './history-index.js';
import type { KvBackend, KvWrite, Namespace } from './kv-backend.js';
import {
  metaOf,
  readMeta,
  sameDoc,
  type SearchHit,
  type SearchOptions,
  type SearchProgress,
  type SearchWrites,
  decodeDocs,
  decodePostings,
  DOC_CHUNK,
  editPostings,
  encodeDocChunk,
  encodePostings,
  intersect,
  pad,
  readHistory,
  searchableText,
  type SearchableMessage,
  SHARD,
  type SearchDoc,
} from './search-postings.js';
import { indexGrams, normalize, queryGrams, snippetOf } from './search-text.js';

export type { SearchHit, SearchOptions, SearchProgress, SearchWrites } from './search-postings.js';

const NS: Namespace = 'search-index';
const META = 'meta';
/** Bytes of the HMAC kept in an n-gram tag (128 bits). */
const TAG_BYTES = 16;
/** Messages read per step of a rebuild from local history. */
const READ_CHUNK = 500;
/** Records written per atomic step of a rebuild. */
const WRITE_CHUNK = 2000;

interface State {
  check: string;
  done: boolean;
  next: number;
  gen: number;
  docs: Map<number, SearchDoc>;
  byId: Map<string, number>;
}

const NONE: SearchWrites = { writes: [], commit: () => undefined };

/**
 * The local search index of a {@link KvBackend} (docs/client.md "Local search"), in the
 * `search-index` namespace: `g/<tag>/<shard>` holds the numbers of the messages whose text has
 * one n-gram (the tag is an HMAC of it under the backend's index key: no n-gram rests in clear),
 * `d/<chunk>` maps numbers to message id, conversation and time, `meta` says whether the index
 * is complete. Every value is sealed by the backend like any record. A query intersects the
 * postings of its n-grams and then checks each candidate's decrypted text, newest first.
 */
export class SearchIndex {
  private readonly tags = new Map<string, Promise<string>>();
  private state: Promise<State> | undefined;
  private building: Promise<void> | undefined;

  /**
   * @param backend where the index rests
   * @param serialized the store's lock for message writes (a rebuild holds it throughout)
   */
  constructor(
    private readonly backend: KvBackend,
    private readonly serialized: <T>(work: () => Promise<T>) => Promise<T>,
  ) {}

  private async hmac(label: string): Promise<string> {
    const key = await this.backend.indexKey();
    const mac = await globalThis.crypto.subtle.sign('HMAC', key, utf8(label));
    return toBase64Url(new Uint8Array(mac).subarray(0, TAG_BYTES));
  }

  private tag(gram: string): Promise<string> {
    let t = this.tags.get(gram);
    if (!t) {
      t = this.hmac(`cipherchat/search-index/v1/gram/${gram}`);
      this.tags.set(gram, t);
    }
    return t;
  }

  /** Forgets what was loaded (after the store was cleared). */
  reset(): void {
    this.state = undefined;
    this.tags.clear();
  }

  /** The index's state, loaded once; reloaded when another tab changed it meanwhile. */
  private async current(): Promise<State> {
    if (this.state) {
      const st = await this.state;
      const meta = readMeta(await this.backend.get(NS, META));
      if (meta && meta.gen === st.gen && meta.check === st.check) return st;
      this.state = undefined;
    }
    this.state ??= this.load().catch((err: unknown) => {
      this.state = undefined;
      throw err;
    });
    return this.state;
  }

  private async load(): Promise<State> {
    const check = await this.hmac('cipherchat/search-index/v1/check');
    const meta = readMeta(await this.backend.get(NS, META));
    const st: State = { check, done: false, next: 0, gen: 0, docs: new Map(), byId: new Map() };
    if (meta && meta.check === check) {
      Object.assign(st, { done: meta.done, next: meta.next, gen: meta.gen });
      const keys = await this.backend.keys(NS, { lower: 'd/', upper: 'd0' });
      for (const v of await this.backend.getMany(NS, keys))
        for (const [n, d] of decodeDocs(v)) {
          st.docs.set(n, d);
          st.byId.set(d.id, n);
        }
    } else if ((await this.backend.count('message', {})) === 0) {
      // A new store: complete while empty, kept in step from its first message on.
      await this.backend.batch([{ ns: NS, key: META, value: metaOf({ ...st, done: true }) }]);
      st.done = true;
    }
    return st;
  }

  /**
   * The index records that go with replacing `old` by `next` (in the same atomic batch as the
   * message, under the store's lock). Until the index is complete nothing is written: the build
   * reads every message.
   * @param old the stored version, if any
   * @param next the new version, or undefined when the message is deleted
   * @returns the writes, and the update of memory to run once they committed
   */
  async writesFor(
    old: StoredMessage | undefined,
    next: StoredMessage | undefined,
  ): Promise<SearchWrites> {
    const st = await this.current();
    if (!st.done) return NONE;
    const id = (next ?? old)?.id;
    if (id === undefined) return NONE;
    const known = st.byId.get(id);
    const before = known === undefined ? undefined : searchableText(old);
    const after = searchableText(next);
    if (known === undefined && after === undefined) return NONE;
    const doc =
      next && after !== undefined ? { id, c: next.conversationId, t: next.sentAt } : undefined;
    const same = known !== undefined && doc && before === after && sameDoc(st.docs.get(known), doc);
    if (same) return NONE;
    const n = known ?? st.next;
    const oldGrams = before === undefined ? new Set<string>() : indexGrams(normalize(before).text);
    const newGrams = after === undefined ? new Set<string>() : indexGrams(normalize(after).text);
    const changed = [
      ...[...newGrams].filter((g) => !oldGrams.has(g)).map((g) => [g, true] as const),
      ...[...oldGrams].filter((g) => !newGrams.has(g)).map((g) => [g, false] as const),
    ];
    const keys = await Promise.all(
      changed.map(async ([g]) => `g/${await this.tag(g)}/${pad(Math.floor(n / SHARD))}`),
    );
    const lists = await this.backend.getMany(NS, keys);
    const writes: KvWrite[] = changed.map(([, add], i) => {
      const list = decodePostings(lists[i]);
      editPostings(list, n, add);
      return { ns: NS, key: keys[i]!, value: list.length > 0 ? encodePostings(list) : undefined };
    });
    const chunk = Math.floor(n / DOC_CHUNK);
    writes.push({
      ns: NS,
      key: `d/${pad(chunk)}`,
      value: encodeDocChunk(st.docs, chunk, [n, doc]),
    });
    const nextNo = known === undefined ? st.next + 1 : st.next;
    writes.push({ ns: NS, key: META, value: metaOf({ ...st, next: nextNo, gen: st.gen + 1 }) });
    return {
      writes,
      commit: () => {
        st.next = nextNo;
        st.gen += 1;
        if (doc) {
          st.docs.set(n, doc);
          st.byId.set(id, n);
        } else {
          st.docs.delete(n);
          st.byId.delete(id);
        }
      },
    };
  }

  /**
   * Marks the index incomplete (a write could not update it): the next query rebuilds it.
   * @returns the write to put in the message's batch
   */
  staleWrite(): SearchWrites {
    return {
      writes: [{ ns: NS, key: META, value: undefined }],
      commit: () => {
        this.state = undefined;
      },
    };
  }

  /**
   * Builds the index when it is not complete (a store from before search, or an interrupted build).
   * @param onProgress told as the build goes
   */
  async ensure(onProgress?: (p: SearchProgress) => void): Promise<void> {
    if ((await this.current()).done) return;
    // Concurrent callers share one build.
    this.building ??= this.rebuild(onProgress)
      .then(() => undefined)
      .finally(() => {
        this.building = undefined;
      });
    await this.building;
  }

  /** @returns whether the index is complete (a query answers without building it first) */
  async ready(): Promise<boolean> {
    return (await this.current()).done;
  }

  /**
   * Builds the index again from scratch, holding the store's message lock throughout.
   * @param onProgress told as the build goes
   * @param source the messages to index, in batches (default: every message of local history;
   *   a restored archive can be fed the same way)
   * @returns how many messages were indexed
   */
  rebuild(
    onProgress?: (p: SearchProgress) => void,
    source?: AsyncIterable<readonly SearchableMessage[]>,
  ): Promise<number> {
    return this.serialized(async () => {
      this.state = undefined;
      const check = await this.hmac('cipherchat/search-index/v1/check');
      await this.backend.clear([NS]);
      const total = source ? undefined : await this.backend.count('message', {});
      const st: State = { check, done: true, next: 0, gen: 1, docs: new Map(), byId: new Map() };
      const postings = new Map<string, number[]>();
      let read = 0;
      for await (const batch of source ?? readHistory(this.backend, READ_CHUNK)) {
        for (const m of batch) {
          const text = searchableText(m);
          if (text === undefined || st.byId.has(m.id)) continue;
          const n = st.next++;
          st.docs.set(n, { id: m.id, c: m.conversationId, t: m.sentAt });
          st.byId.set(m.id, n);
          for (const g of indexGrams(normalize(text).text)) {
            const list = postings.get(g);
            if (list) list.push(n);
            else postings.set(g, [n]);
          }
        }
        read += batch.length;
        onProgress?.({ phase: 'reading', done: read, ...(total === undefined ? {} : { total }) });
      }
      await this.writeAll(st, postings, onProgress);
      this.state = Promise.resolve(st);
      return st.docs.size;
    });
  }

  private async writeAll(
    st: State,
    postings: Map<string, number[]>,
    onProgress?: (p: SearchProgress) => void,
  ): Promise<void> {
    const grams = [...postings.keys()];
    const total = grams.length;
    let done = 0;
    for (let i = 0; i < grams.length; i += WRITE_CHUNK) {
      const part = grams.slice(i, i + WRITE_CHUNK);
      const tags = await Promise.all(part.map((g) => this.tag(g)));
      const writes: KvWrite[] = [];
      part.forEach((g, j) => {
        const list = postings.get(g)!;
        for (let a = 0; a < list.length;) {
          const shard = Math.floor(list[a]! / SHARD);
          let b = a;
          while (b < list.length && Math.floor(list[b]! / SHARD) === shard) b++;
          writes.push({
            ns: NS,
            key: `g/${tags[j]!}/${pad(shard)}`,
            value: encodePostings(list.slice(a, b)),
          });
          a = b;
        }
      });
      await this.backend.batch(writes);
      done += part.length;
      onProgress?.({ phase: 'writing', done, total });
    }
    const writes: KvWrite[] = [];
    for (let c = 0; c * DOC_CHUNK < st.next; c++) {
      const value = encodeDocChunk(st.docs, c);
      if (value !== undefined) writes.push({ ns: NS, key: `d/${pad(c)}`, value });
    }
    // The meta record last: an interrupted build leaves none, so the next query builds again.
    writes.push({ ns: NS, key: META, value: metaOf(st) });
    await this.backend.batch(writes);
  }

  /**
   * Finds messages whose text contains the query (after normalisation), newest first.
   * @param text the query (under three characters only when it holds CJK)
   * @param options conversation filter, limit, clock
   * @returns the hits: no deleted or expired message, no text that does not contain the query
   */
  async query(text: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const q = normalize(text).text;
    const grams = queryGrams(q);
    const limit = Math.min(Math.max(Math.floor(options.limit ?? 20), 1), 500);
    if (!grams) return [];
    await this.ensure();
    const st = await this.current();
    // Shard keys first (nothing is opened): only shards that every n-gram has can hold a match.
    // Postings of some of the query's n-grams still hold every match; the text check below
    // drops the rest.
    const shardOf = (k: string) => k.slice(k.lastIndexOf('/') + 1);
    const keyed = await Promise.all(
      grams.map(async (g) => {
        const tag = await this.tag(g);
        return this.backend.keys(NS, { lower: `g/${tag}/`, upper: `g/${tag}0` });
      }),
    );
    let shared = new Set(keyed[0]!.map(shardOf));
    for (const ks of keyed.slice(1)) {
      const has = new Set(ks.map(shardOf));
      shared = new Set([...shared].filter((x) => has.has(x)));
    }
    if (shared.size === 0) return [];
    // Trigrams that cover the query end to end (every third, and the last) are as selective as
    // all of them, at a third of the records opened.
    const cover = keyed.filter((_, i) => i % 3 === 0 || i === keyed.length - 1);
    const perGram = await Promise.all(
      cover.map(async (ks) => {
        const wanted = ks.filter((k) => shared.has(shardOf(k)));
        const values = await this.backend.getMany(NS, wanted);
        return new Map(wanted.map((k, i) => [shardOf(k), decodePostings(values[i])]));
      }),
    );
    const candidates: Array<SearchDoc & { n: number }> = [];
    for (const [shard, first] of perGram[0]!) {
      const lists = [first, ...perGram.slice(1).map((m) => m.get(shard))];
      if (lists.some((l) => l === undefined)) continue;
      for (const n of intersect(lists as number[][])) {
        const d = st.docs.get(n);
        if (d && (options.conversationId === undefined || d.c === options.conversationId))
          candidates.push({ ...d, n });
      }
    }
    candidates.sort((a, b) => b.t - a.t || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const now = options.now ?? Date.now();
    const hits: SearchHit[] = [];
    // Verify newest first, a page at a time, until the limit is reached.
    for (let i = 0; i < candidates.length && hits.length < limit; i += limit * 2) {
      const page = candidates.slice(i, i + limit * 2);
      const values = await this.backend.getMany(
        'message',
        page.map((c) => c.id),
      );
      for (const v of values) {
        const m = v === undefined ? undefined : readMessage(v);
        const body = searchableText(m);
        if (!m || body === undefined || (m.expiresAt !== undefined && m.expiresAt <= now)) continue;
        const snippet = snippetOf(body, normalize(body), q);
        if (!snippet) continue;
        hits.push({
          conversationId: m.conversationId,
          messageId: m.id,
          sentAt: m.sentAt,
          senderUserId: m.senderUserId,
          direction: m.direction,
          snippet,
        });
        if (hits.length === limit) break;
      }
    }
    return hits;
  }
}
