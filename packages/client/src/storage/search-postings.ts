import type { StoredMessage } from '../messages/message.schema.js';
import type { KvBackend, KvWrite } from './kv-backend.js';
import type { Snippet } from './search-text.js';

/** Layout version of the search index (another one is rebuilt). */
const VERSION = 1;

/** One indexed message in the document table: its number in posting lists names it. */
export interface SearchDoc {
  /** Client message id. */
  readonly id: string;
  /** Its conversation. */
  readonly c: string;
  /** Its `sentAt` (epoch ms): hits are ranked newest first without opening a message. */
  readonly t: number;
}

/** Document numbers per posting record (`g/<tag>/<shard>`): what one live write rewrites at most. */
export const SHARD = 2048;
/** Documents per document-table record (`d/<chunk>`). */
export const DOC_CHUNK = 1024;

/** @param n a document or shard number @returns it as 8 zero-padded digits (key order is number order) */
export function pad(n: number): string {
  return String(n).padStart(8, '0');
}

/** The fields of a stored message that search reads. */
export type SearchableMessage = Pick<
  StoredMessage,
  'id' | 'conversationId' | 'sentAt' | 'kind' | 'text' | 'deletedAt'
> & { attachment?: { fileName?: string | undefined } | undefined };

/**
 * The text of a message that search indexes: the text (or caption) and the attachment's file
 * name. Nothing for a tombstone, an event line or a kind this client does not read.
 * @param m a stored message (or none)
 * @returns the text, or undefined when nothing of it is searchable
 */
export function searchableText(m: SearchableMessage | undefined): string | undefined {
  if (!m || m.deletedAt !== undefined || (m.kind !== 'text' && m.kind !== 'attachment'))
    return undefined;
  const parts = [m.text, m.attachment?.fileName].filter((p): p is string => !!p && p.trim() !== '');
  return parts.length > 0 ? parts.join('\n') : undefined;
}

/**
 * Reads only what search needs from a stored message record, checking just those fields (a
 * rebuild reads every record; the full schema check is what a hit's record gets).
 * @param text the record's JSON
 * @returns the fields, or undefined when they are not there or of the wrong type
 */
export function readSearchable(text: string): SearchableMessage | undefined {
  try {
    const m = JSON.parse(text) as Record<string, unknown>;
    const a = m.attachment as Record<string, unknown> | undefined;
    if (typeof m.id !== 'string' || typeof m.conversationId !== 'string') return undefined;
    if (typeof m.sentAt !== 'number' || (m.kind !== 'text' && m.kind !== 'attachment'))
      return undefined;
    if (m.text !== undefined && typeof m.text !== 'string') return undefined;
    if (m.deletedAt !== undefined && typeof m.deletedAt !== 'number') return undefined;
    const fileName =
      a && typeof a === 'object' && typeof a.fileName === 'string' ? a.fileName : undefined;
    return {
      id: m.id,
      conversationId: m.conversationId,
      sentAt: m.sentAt,
      kind: m.kind,
      ...(m.text !== undefined ? { text: m.text as string } : {}),
      ...(m.deletedAt !== undefined ? { deletedAt: m.deletedAt as number } : {}),
      ...(fileName !== undefined ? { attachment: { fileName } } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * @param sorted document numbers, ascending
 * @returns them delta-encoded as JSON (small numbers stay short)
 */
export function encodePostings(sorted: readonly number[]): string {
  const out = new Array<number>(sorted.length);
  let prev = 0;
  for (let i = 0; i < sorted.length; i++) {
    out[i] = sorted[i]! - prev;
    prev = sorted[i]!;
  }
  return JSON.stringify(out);
}

/**
 * @param text a stored posting record (or none)
 * @returns its document numbers, ascending (empty when absent or malformed)
 */
export function decodePostings(text: string | undefined): number[] {
  if (text === undefined) return [];
  let deltas: unknown;
  try {
    deltas = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(deltas)) return [];
  const out: number[] = [];
  let prev = 0;
  for (const d of deltas) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) return [];
    prev += d;
    out.push(prev);
  }
  return out;
}

/**
 * Inserts or removes one number in an ascending list.
 * @param list ascending numbers (changed in place)
 * @param n the number
 * @param add true to insert (once), false to remove
 */
export function editPostings(list: number[], n: number, add: boolean): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < n) lo = mid + 1;
    else hi = mid;
  }
  const present = list[lo] === n;
  if (add && !present) list.splice(lo, 0, n);
  if (!add && present) list.splice(lo, 1);
}

/**
 * @param lists ascending number lists
 * @returns the numbers in every list, ascending
 */
export function intersect(lists: ReadonlyArray<readonly number[]>): number[] {
  if (lists.length === 0) return [];
  const [first, ...rest] = [...lists].sort((a, b) => a.length - b.length);
  let out = [...first!];
  for (const l of rest) {
    const next: number[] = [];
    let j = 0;
    for (const n of out) {
      while (j < l.length && l[j]! < n) j++;
      if (j < l.length && l[j] === n) next.push(n);
    }
    out = next;
    if (out.length === 0) break;
  }
  return out;
}

/**
 * @param text a stored document-table record
 * @returns its documents by number (empty when malformed)
 */
export function decodeDocs(text: string | undefined): Array<[number, SearchDoc]> {
  if (text === undefined) return [];
  try {
    const rows = JSON.parse(text) as unknown;
    if (!Array.isArray(rows)) return [];
    return rows.flatMap((r: unknown) =>
      Array.isArray(r) &&
      typeof r[0] === 'number' &&
      typeof r[1] === 'string' &&
      typeof r[2] === 'string' &&
      typeof r[3] === 'number'
        ? [[r[0], { id: r[1], c: r[2], t: r[3] }] as [number, SearchDoc]]
        : [],
    );
  } catch {
    return [];
  }
}

/**
 * @param docs every document
 * @param chunk a document-table chunk number
 * @param change one document set (or removed, when undefined) on top of `docs`
 * @returns the record of that chunk, or undefined when it holds no document
 */
export function encodeDocChunk(
  docs: ReadonlyMap<number, SearchDoc>,
  chunk: number,
  change?: readonly [number, SearchDoc | undefined],
): string | undefined {
  const rows: Array<[number, string, string, number]> = [];
  for (let n = chunk * DOC_CHUNK; n < (chunk + 1) * DOC_CHUNK; n++) {
    const d = change && change[0] === n ? change[1] : docs.get(n);
    if (d) rows.push([n, d.id, d.c, d.t]);
  }
  return rows.length > 0 ? JSON.stringify(rows) : undefined;
}

/** One message that matches a query. */
export interface SearchHit {
  conversationId: string;
  messageId: string;
  /** Sender's clock, epoch ms (hits come newest first). */
  sentAt: number;
  senderUserId: string;
  direction: 'in' | 'out';
  /** The text around the first match, with the match's offsets. */
  snippet: Snippet;
}

/** How far a rebuild got: `reading` messages, then `writing` index records. */
export interface SearchProgress {
  phase: 'reading' | 'writing';
  done: number;
  /** Known while reading local history (its message count) and while writing. */
  total?: number;
}

/** What a query asks for. */
export interface SearchOptions {
  /** Only this conversation's messages. */
  conversationId?: string;
  /** At most this many hits (default 20). */
  limit?: number;
  /** The time expiry is checked against (epoch ms; default now). */
  now?: number;
}

/** A write's index records, and what to apply to memory once the batch holding them committed. */
export interface SearchWrites {
  writes: KvWrite[];
  commit(): void;
}

/** The index's meta record. */
export interface SearchMeta {
  /** HMAC of a fixed label: an index made under another key is rebuilt. */
  check: string;
  /** Whether the index holds every message (else the next query builds it). */
  done: boolean;
  /** The next free document number. */
  next: number;
  /** Counts writes, so a tab sees that another changed the index. */
  gen: number;
}

/** @returns whether two documents say the same */
export function sameDoc(a: SearchDoc | undefined, b: SearchDoc): boolean {
  return !!a && a.id === b.id && a.c === b.c && a.t === b.t;
}

/** @param st the index's state @returns its meta record */
export function metaOf(st: SearchMeta): string {
  return JSON.stringify({ v: VERSION, check: st.check, done: st.done, next: st.next, gen: st.gen });
}

/** @param text the stored meta record @returns it, or undefined when absent or of another layout */
export function readMeta(text: string | undefined): SearchMeta | undefined {
  if (text === undefined) return undefined;
  try {
    const m = JSON.parse(text) as Record<string, unknown>;
    if (m.v !== VERSION || typeof m.check !== 'string' || typeof m.done !== 'boolean')
      return undefined;
    if (!Number.isSafeInteger(m.next) || !Number.isSafeInteger(m.gen)) return undefined;
    return { check: m.check, done: m.done, next: m.next as number, gen: m.gen as number };
  } catch {
    return undefined;
  }
}

/**
 * Every message of local history, in batches, as search reads them (only its fields checked).
 * The next batch is read (IndexedDB, decryption) while the caller indexes this one.
 * @param backend the store's backend
 * @param chunk messages per batch
 * @yields the batches, in message key order
 */
export async function* readHistory(
  backend: KvBackend,
  chunk: number,
): AsyncGenerator<SearchableMessage[]> {
  const read = async (after: string | undefined) => {
    const ids = await backend.keys('message', after === undefined ? {} : { lower: `${after}\0` }, {
      limit: chunk,
    });
    const values = await backend.getMany('message', ids);
    return {
      last: ids[ids.length - 1],
      batch: values.flatMap((v) => (v === undefined ? [] : (readSearchable(v) ?? []))),
      full: ids.length === chunk,
    };
  };
  let next = read(undefined);
  for (;;) {
    const { last, batch, full } = await next;
    if (full) {
      next = read(last);
      next.catch(() => undefined); // awaited on the next turn; no unhandled rejection meanwhile
    }
    yield batch;
    if (!full) return;
  }
}
