import type { PlaintextMessage } from '../messages/message.schema.js';
import type { ProtocolStore } from '../storage/protocol-store.js';

/** How long this device can send a message again after it sent it (24 hours). */
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** How many sends the log keeps (oldest out first): the window is 24 h or the last 1,000 sends. */
export const RETRY_LOG_LIMIT = 1000;
/** How many times one message is sent again to one device, at most. */
export const MAX_RESENDS_PER_READER = 2;
/** How many retry requests one peer device gets served per minute, at most. */
export const PEER_REQUESTS_PER_MINUTE = 20;
/**
 * Served up to this depth: an original (0), a request or a resend of it (1); a resend of those
 * (2) is not served again, so a server that garbles every envelope cannot make two devices send
 * each other retries forever.
 */
export const MAX_RETRY_DEPTH = 2;
/** A control plaintext longer than this is not kept (a large group state): asked again, it is answered `control`. */
export const MAX_KEPT_CONTROL_CHARS = 16_384;

const META_LOG = 'retry.sentLog';
const CONTENT_KINDS = ['text', 'attachment'];
/** Kinds answered "nothing to show": they only matter at the moment they are sent. */
const EPHEMERAL_KINDS = ['receipt', 'typing'];

/** One message this device sent: enough to check a retry request and to send it again. */
export interface SentEntry {
  /** Server message id (what a retry request names). */
  s: string;
  /** The plaintext's client id. */
  c: string;
  /** The plaintext's kind. */
  k: string;
  /** Conversation it was sent to. */
  conv: string;
  /** Its readers: every device it was encrypted for, as `userId.deviceId`. */
  r: string[];
  /** When it was sent (epoch ms, this device's clock). */
  t: number;
  /** A control plaintext's JSON (reaction, edit, delete, timer, group, avatar, device), sent again as it is. */
  p?: string;
  /**
   * Retry depth: 0 (absent) an original; 1 a retry request or a resend of an original; 2 a resend
   * of that (never served: see `MAX_RETRY_DEPTH` in retries.ts).
   */
  d?: number;
  /** A resend: the server id of the original message it carries. */
  o?: string;
  /** How many times it was sent again, per reader. */
  n?: Record<string, number>;
  /**
   * Poisoned: the server acked another message (another client id, conversation or kind) with
   * this server id. Never served again: a hostile server must not make a later reader of it.
   */
  x?: true;
}

/** Why a retry request is not served. */
export type RefusedReason =
  /** The asker is blocked, in a request I have not accepted, or not in the conversation. */
  | 'blocked'
  | 'unknown_message'
  | 'foreign_conversation'
  | 'not_reader'
  | 'too_old'
  | 'rate_limited'
  | 'too_deep'
  | 'id_collision';

/**
 * Whether a retry request may be served: the message is one this device sent, less than
 * {@link RETRY_WINDOW_MS} ago, to the conversation the request came through, and the asking device
 * was among its readers (same user and device) and has not had it {@link MAX_RESENDS_PER_READER} times,
 * and it is not itself a retry of depth {@link MAX_RETRY_DEPTH}.
 * @param entry the log's entry for the named message (undefined: not sent by this device, or forgotten)
 * @param request the conversation the request came through and the asking device (`userId.deviceId`)
 * @param now this device's clock
 * @returns ok, or why not
 */
export function checkRetryRequest(
  entry: SentEntry | undefined,
  request: { conversationId: string; reader: string },
  now: number,
): { ok: true; entry: SentEntry } | { ok: false; reason: RefusedReason } {
  if (!entry) return { ok: false, reason: 'unknown_message' };
  if (entry.x) return { ok: false, reason: 'id_collision' };
  if (entry.conv !== request.conversationId) return { ok: false, reason: 'foreign_conversation' };
  if (!entry.r.includes(request.reader)) return { ok: false, reason: 'not_reader' };
  if (now - entry.t > RETRY_WINDOW_MS) return { ok: false, reason: 'too_old' };
  if ((entry.d ?? 0) >= MAX_RETRY_DEPTH) return { ok: false, reason: 'too_deep' };
  if ((entry.n?.[request.reader] ?? 0) >= MAX_RESENDS_PER_READER)
    return { ok: false, reason: 'rate_limited' };
  return { ok: true, entry };
}

/**
 * What a send is kept as: content kinds by id only (sent again from the history, so an edit or a
 * delete since is respected), other controls with their plaintext, receipts and typing by id only.
 * @param plain the plaintext sent
 * @returns `p` for the entry, or undefined
 */
export function keptPlaintext(plain: PlaintextMessage): string | undefined {
  if (CONTENT_KINDS.includes(plain.kind) || EPHEMERAL_KINDS.includes(plain.kind)) return undefined;
  const json = JSON.stringify(plain);
  return json.length <= MAX_KEPT_CONTROL_CHARS ? json : undefined;
}

/** @param kind a plaintext kind @returns whether it is sent again from the history */
export const isContentKind = (kind: string): boolean => CONTENT_KINDS.includes(kind);

/**
 * The sender's side of retries: what this device sent in the last {@link RETRY_WINDOW_MS} (at
 * most {@link RETRY_LOG_LIMIT} sends), to whom, and how often each was asked for again. Kept in
 * the local store's meta; writes are coalesced (a crash may lose the last few 100 ms of sends,
 * which then cannot be sent again: their readers' placeholders end as "not re-sent").
 */
export class SentLog {
  private entries: SentEntry[] = [];
  private readonly byServerId = new Map<string, SentEntry>();
  private readonly asked = new Map<string, number[]>();
  private store: ProtocolStore | undefined;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  /** @param store the local store to load from and keep in */
  async load(store: ProtocolStore): Promise<void> {
    this.store = store;
    const raw = await store.getMeta(META_LOG);
    this.entries = Array.isArray(raw) ? raw.filter(isEntry) : [];
    this.byServerId.clear();
    for (const e of this.entries) this.byServerId.set(e.s, e);
  }

  /**
   * @param entry a send to remember. A second ack with the same server id merges its readers into
   * the first entry only when it is the same message (client id, conversation and kind); any
   * other message acked with that id poisons it: it is never served again (first readers unchanged).
   */
  record(entry: SentEntry): void {
    const existing = this.byServerId.get(entry.s);
    if (existing) {
      if (existing.c === entry.c && existing.conv === entry.conv && existing.k === entry.k) {
        if (!existing.x) existing.r = [...new Set([...existing.r, ...entry.r])];
      } else existing.x = true;
    } else {
      this.entries.push(entry);
      this.byServerId.set(entry.s, entry);
    }
    this.prune(entry.t);
    this.scheduleFlush();
  }

  /** @param serverId a server message id @returns its entry, if this device sent it and still keeps it */
  get(serverId: string): SentEntry | undefined {
    return this.byServerId.get(serverId);
  }

  /**
   * Counts a served request against the reader's budgets (per message and per minute).
   * @param entry the message
   * @param reader the asking device
   * @param now clock
   * @returns false when the reader asked more than {@link PEER_REQUESTS_PER_MINUTE} times in the last minute
   */
  take(entry: SentEntry, reader: string, now: number): boolean {
    const recent = (this.asked.get(reader) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= PEER_REQUESTS_PER_MINUTE) {
      this.asked.set(reader, recent);
      return false;
    }
    this.asked.set(reader, [...recent, now]);
    entry.n = { ...entry.n, [reader]: (entry.n?.[reader] ?? 0) + 1 };
    this.scheduleFlush();
    return true;
  }

  /** Writes the log now (also on log-out). */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.store?.setMeta(META_LOG, this.entries);
  }

  private prune(now: number): void {
    const keep = this.entries.filter((e) => now - e.t <= RETRY_WINDOW_MS).slice(-RETRY_LOG_LIMIT);
    if (keep.length === this.entries.length) return;
    const kept = new Set(keep);
    for (const e of this.entries) if (!kept.has(e)) this.byServerId.delete(e.s);
    this.entries = keep;
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush().catch(() => undefined), 200);
  }
}

function isEntry(x: unknown): x is SentEntry {
  const e = x as SentEntry;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.s === 'string' &&
    typeof e.c === 'string' &&
    typeof e.conv === 'string' &&
    Array.isArray(e.r) &&
    typeof e.t === 'number'
  );
}
