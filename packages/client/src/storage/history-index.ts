import { StoredMessage } from '../messages/message.schema.js';
import { toBase64Url, utf8 } from '../protocol/bytes.js';
import type { KeyRange, KvBackend, KvWrite, Namespace } from './kv-backend.js';

/** Where an older page starts: the oldest message already shown (exclusive). */
export interface HistoryCursor {
  /** Its `sentAt` (epoch ms). */
  readonly sentAt: number;
  /** Its client message id (orders messages of the same millisecond). */
  readonly id: string;
}

/** The index namespaces, cleared and rebuilt together. */
export const INDEX_NAMESPACES: readonly Namespace[] = [
  'history-index',
  'unread-index',
  'mention-index',
];
/** Meta record of the index: version, key check, and the migration's progress. */
const META_KEY = 'historyIndex';
const VERSION = 1;
/** Messages indexed per migration step (one atomic write each, progress saved with it). */
const MIGRATION_CHUNK = 200;
/** Bytes of the HMAC kept in a conversation tag (128 bits). */
const TAG_BYTES = 16;

const IndexMeta = (
  v: unknown,
): { v: number; check: string; done: boolean; after?: string } | undefined => {
  if (!v || typeof v !== 'object') return undefined;
  const m = v as Record<string, unknown>;
  if (typeof m.v !== 'number' || typeof m.check !== 'string' || typeof m.done !== 'boolean')
    return undefined;
  return {
    v: m.v,
    check: m.check,
    done: m.done,
    ...(typeof m.after === 'string' ? { after: m.after } : {}),
  };
};

/**
 * `sentAt` as 16 zero-padded digits, so string order is time order (clamped to 0 ..
 * `Number.MAX_SAFE_INTEGER`; the schema of received times stops at 8.64e15).
 * @param sentAt epoch ms
 * @returns the sortable text
 */
export function timeKey(sentAt: number): string {
  const t = Number.isFinite(sentAt)
    ? Math.min(Math.max(Math.floor(sentAt), 0), Number.MAX_SAFE_INTEGER)
    : 0;
  return String(t).padStart(16, '0');
}

/** Whether a message counts as unread: received by me and not read yet. */
export function isUnread(m: StoredMessage): boolean {
  return m.direction === 'in' && m.status === 'received';
}

/**
 * The history index of a {@link KvBackend}: for every stored message an entry keyed
 * `<conversation tag>/<sentAt, 16 digits>/<message id>` in `history-index` (and in
 * `unread-index` while it is unread, in `mention-index` while it is unread and mentions
 * someone), so one conversation's page is a key range read and only its messages are opened.
 * The tag is a keyed hash (HMAC-SHA-256 under the backend's index key, 128 bits, base64url) of
 * the conversation id: the ids never rest in clear. Values are sealed like every record (empty,
 * or the mentioned user ids). A store from before the index gets it built once on first use, in
 * steps that survive a reload (docs/client.md "History index").
 */
export class HistoryIndex {
  private readonly tags = new Map<string, Promise<string>>();
  private lock: Promise<unknown> = Promise.resolve();
  private ready: Promise<void> | undefined;

  /** @param backend where the index and the messages rest */
  constructor(private readonly backend: KvBackend) {}

  private async hmac(label: string): Promise<string> {
    const mac = await globalThis.crypto.subtle.sign(
      'HMAC',
      await this.backend.indexKey(),
      utf8(label),
    );
    return toBase64Url(new Uint8Array(mac).subarray(0, TAG_BYTES));
  }

  /** @param conversationId a conversation @returns its tag in index keys */
  tag(conversationId: string): Promise<string> {
    let t = this.tags.get(conversationId);
    if (!t) {
      t = this.hmac(`cipherchat/history-index/v1/conversation/${conversationId}`);
      this.tags.set(conversationId, t);
    }
    return t;
  }

  private async range(conversationId: string): Promise<Required<KeyRange>> {
    const tag = await this.tag(conversationId);
    // '0' follows '/': every key of this tag, nothing of another (tags have a fixed length).
    return { lower: `${tag}/`, upper: `${tag}0` };
  }

  private async entries(m: StoredMessage): Promise<KvWrite[]> {
    const key = `${await this.tag(m.conversationId)}/${timeKey(m.sentAt)}/${m.id}`;
    const out: KvWrite[] = [{ ns: 'history-index', key, value: '' }];
    if (isUnread(m)) {
      out.push({ ns: 'unread-index', key, value: '' });
      if (m.mentions?.length)
        out.push({ ns: 'mention-index', key, value: JSON.stringify(m.mentions) });
    }
    return out;
  }

  /**
   * The index writes that go with replacing `old` by `next` (in the same atomic batch as the
   * message): entries of the old version that no longer apply are deleted, the new ones put.
   * @param old the stored version, if any
   * @param next the new version, or undefined when the message is deleted
   * @returns the writes
   */
  async writesFor(
    old: StoredMessage | undefined,
    next: StoredMessage | undefined,
  ): Promise<KvWrite[]> {
    const put = next ? await this.entries(next) : [];
    const kept = new Set(put.map((w) => `${w.ns}\n${w.key}`));
    const gone = (old ? await this.entries(old) : [])
      .filter((w) => !kept.has(`${w.ns}\n${w.key}`))
      .map((w) => ({ ...w, value: undefined }));
    return [...gone, ...put];
  }

  /**
   * Runs index-changing work one at a time (message writes and migration steps), so a step
   * never indexes a version that a write replaced meanwhile.
   * @param work the work
   * @returns its result
   */
  serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Forgets that the index was checked (after the store was cleared). */
  reset(): void {
    this.ready = undefined;
  }

  /** Resolves once the index is complete: checks it and builds (or finishes building) it once. */
  ensure(): Promise<void> {
    this.ready ??= this.build().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async build(): Promise<void> {
    const check = await this.hmac('cipherchat/history-index/v1/check');
    const raw = await this.backend.get('meta', META_KEY);
    let meta = IndexMeta(raw === undefined ? undefined : JSON.parse(raw));
    if (meta?.v === VERSION && meta.check === check && meta.done) return;
    if (!meta || meta.v !== VERSION || meta.check !== check) {
      // No index yet, an older layout, or one made under another key: start over.
      await this.serialized(() => this.backend.clear(INDEX_NAMESPACES));
      meta = { v: VERSION, check, done: false };
    }
    for (;;) {
      const after: string | undefined = meta.after;
      const finished = await this.serialized(async () => {
        // `after + '\0'` is the first key after the last one indexed.
        const ids = await this.backend.keys(
          'message',
          after === undefined ? {} : { lower: `${after}\0` },
          {
            limit: MIGRATION_CHUNK,
          },
        );
        const values = await this.backend.getMany('message', ids);
        const writes: KvWrite[] = [];
        for (const v of values) {
          const m = v === undefined ? undefined : readMessage(v);
          if (m) writes.push(...(await this.entries(m))); // an unreadable record stays unindexed
        }
        const done = ids.length < MIGRATION_CHUNK;
        meta = { v: VERSION, check, done, ...(done ? {} : { after: ids[ids.length - 1] }) };
        writes.push({ ns: 'meta', key: META_KEY, value: JSON.stringify(meta) });
        await this.backend.batch(writes);
        return done;
      });
      if (finished) return;
    }
  }

  /**
   * @param conversationId the conversation
   * @param options `before`: page before this message (exclusive); `limit`: how many (all when absent)
   * @returns message ids of the page, oldest first
   */
  async ids(
    conversationId: string,
    options: { before?: HistoryCursor; limit?: number } = {},
  ): Promise<string[]> {
    await this.ensure();
    const r = await this.range(conversationId);
    const upper = options.before
      ? `${r.lower}${timeKey(options.before.sentAt)}/${options.before.id}`
      : r.upper;
    const keys = await this.backend.keys(
      'history-index',
      { lower: r.lower, upper },
      {
        reverse: true,
        ...(options.limit === undefined ? {} : { limit: options.limit }),
      },
    );
    return keys.reverse().map(idOf);
  }

  /** @param conversationId the conversation @returns how many of its messages are unread (no message is opened) */
  async unreadCount(conversationId: string): Promise<number> {
    await this.ensure();
    return this.backend.count('unread-index', await this.range(conversationId));
  }

  /** @param conversationId the conversation @returns the ids of its unread messages, oldest first */
  async unreadIds(conversationId: string): Promise<string[]> {
    await this.ensure();
    return (await this.backend.keys('unread-index', await this.range(conversationId))).map(idOf);
  }

  /**
   * @param conversationId the conversation
   * @param userId whose mentions
   * @returns how many unread messages mention them (only unread messages with mentions are opened)
   */
  async unreadMentions(conversationId: string, userId: string): Promise<number> {
    await this.ensure();
    const keys = await this.backend.keys('mention-index', await this.range(conversationId));
    const values = await this.backend.getMany('mention-index', keys);
    return values.filter((v) => v !== undefined && (JSON.parse(v) as unknown[]).includes(userId))
      .length;
  }
}

/** @returns a stored message from its JSON, or undefined when it does not parse */
export function readMessage(text: string): StoredMessage | undefined {
  try {
    const m = StoredMessage.safeParse(JSON.parse(text));
    return m.success ? m.data : undefined;
  } catch {
    return undefined;
  }
}

/** The message id at the end of an index key (ids may contain '/': the first two parts are fixed). */
function idOf(key: string): string {
  const first = key.indexOf('/');
  return key.slice(key.indexOf('/', first + 1) + 1);
}
