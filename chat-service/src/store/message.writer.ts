import type { Logger } from '@cipherchat/service-kit';
import type { MessageWrites, StoreMessageInput, WriteOutcome } from '../domain/ports.js';
import { REQUEST_BUDGET_ROWS_SQL, STORE_MESSAGES_SQL } from './message.sql.js';

export type { StoreMessageInput, WriteOutcome };

/**
 * The bit of a node-postgres pool the hot path needs. Its statements are named: each pool
 * connection parses and plans one once and then only binds and executes it (planning these
 * multi-CTE statements took longer than running them).
 */
export interface Queryable {
  query(query: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Result of {@link storeMessages}. */
export interface StoreResult {
  /** Ids of the messages stored. */
  stored: Set<string>;
  /** Ids of the messages refused (a membership or the device set did not hold). */
  refused: Set<string>;
  /** Of the messages stored: recipients whose envelopes were dropped (they blocked the sender or declined, or a group member over budget). */
  held: Map<string, string[]>;
  /** Ids of the refused messages that would have overfilled a recipient device's mailbox or overspent a direct request budget. */
  full: Set<string>;
}

/**
 * Mailbox caps per recipient device (count and bytes, for everyone), and the budget of each
 * (sender, recipient) pair whose recipient has not accepted the conversation or declined it.
 */
export interface MailboxCaps {
  /** Most envelopes waiting per device. */
  messages: number;
  /** Most ciphertext bytes waiting per device. */
  bytes: number;
  /** Messages per (sender, recipient) pair and window, while the recipient has not accepted (or declined). */
  requestMessages: number;
  /** Envelope bytes (all the recipient's devices) per such pair and window. */
  requestBytes: number;
  /** That window, in seconds (fixed, from the pair's first send). */
  requestWindowSeconds: number;
}

interface Pending {
  input: StoreMessageInput;
  resolve: (outcome: WriteOutcome) => void;
  reject: (err: unknown) => void;
}

function outcomeOf(r: StoreResult, input: StoreMessageInput): WriteOutcome {
  const messageId = input.messageId;
  if (r.stored.has(messageId)) {
    input.withheld = r.held.get(messageId) ?? [];
    return 'stored';
  }
  if (r.full.has(messageId)) return 'mailbox_full';
  return r.refused.has(messageId) ? 'refused' : 'duplicate';
}

/** No caps (the largest values the statement's integer parameters take). */
const NO_CAPS: MailboxCaps = { messages: 2 ** 31 - 1, bytes: Number.MAX_SAFE_INTEGER, requestMessages: 2 ** 31 - 1, requestBytes: Number.MAX_SAFE_INTEGER, requestWindowSeconds: 86_400 };

/**
 * Stores a batch of messages in ONE statement, so one implicit transaction and one commit
 * (one WAL flush) cover them all: the dedupe rows, every envelope as a mailbox row (multi-row
 * insert from arrays), the outbox rows and the pending-digest marks. Mailbox and outbox rows
 * are gated on their message's dedupe insert, so a duplicate `(sender, clientMessageId)`
 * stores nothing.
 *
 * The send's checks are part of the same statement (only the budget rows are made before it,
 * see below): a message is stored
 * only if its sender and every recipient are members, its envelopes address exactly the
 * keyed devices of the members, less the sending device, and a direct conversation has exactly
 * two members (a self conversation one; a database trigger keeps either from growing, but a
 * direct conversation whose peer's account was deleted has one left). The membership rows it relies on are
 * locked `FOR KEY SHARE`, so a concurrent removal either committed before (the message is
 * refused) or waits for this commit (the envelope was sent while they were a member).
 * Key-share locks do not conflict with each other or with role changes, only with the removal
 * itself. A refused message stored nothing; the caller works out why (`not_member`,
 * `stale_devices`, or a duplicate whose original it answers with).
 *
 * Mailbox caps: a direct or self message is also refused (and reported in `full`) when one of
 * its envelopes would take its device's mailbox over the caps, counting what waits there
 * (`chat.mailbox_added` less `chat.mailbox_removed`, kept by triggers), this sender's own
 * envelopes dropped for a block or decline while that device was offline
 * (`chat.mailbox_held_from`, as if stored, for that sender only: the cap tells them nothing
 * about a block and takes no room from anyone else; aged out with the mailbox) and the batch's
 * earlier envelopes to that device. In a group only that device's envelope is dropped (counted
 * in `chat.mailbox_held.missed`, told to the device at its next drain): one full device never
 * refuses a group's message.
 * Request budgets: when a recipient has not accepted the conversation (a `request`) or declined
 * it, the message must also fit the (sender, recipient) budget of the current window
 * (`chat.request_budget`: what the pair spent, plus the batch's earlier messages to them). Over
 * it, a direct message is refused the same way; in a group only that member's envelopes are
 * dropped (`held`). A message stored spends it, dropped envelopes included; one refused spends
 * nothing. A blocked contact in an accepted conversation spends nothing (their envelopes are
 * dropped; only the mailbox cap refuses them, as it would anyone). Budgets never depend on
 * the mailbox, so the answer does not tell whether the recipient came online, blocked or
 * declined. Offline recipients are marked for a digest only for an envelope stored. Two batches
 * in flight at once do not see each other's mailbox rows: a mailbox may overshoot by one batch.
 * Budgets do not: the pair rows are made first (`REQUEST_BUDGET_ROWS_SQL`, a statement of its
 * own) and the send statement locks them `FOR UPDATE` in key order before reading them.
 * @param db pool
 * @param batch messages (no two envelopes of one message for the same device)
 * @param caps the mailbox caps
 * @returns the ids stored and the ids refused (every other one was a duplicate)
 */
export async function storeMessages(db: Queryable, batch: readonly StoreMessageInput[], caps: MailboxCaps = NO_CAPS): Promise<StoreResult> {
  const m = { su: [] as string[], cmi: [] as string[], mid: [] as string[], cid: [] as string[], sd: [] as number[], ts: [] as Date[], n: [] as number[] };
  // Bodies go as ONE binary parameter plus offsets and lengths: an array of buffers would be
  // sent as a hex text literal (twice the bytes, escaped here and parsed again there).
  const e = { mid: [] as string[], ru: [] as string[], rd: [] as number[], t: [] as number[], off: [] as number[], len: [] as number[], b: [] as Buffer[], live: [] as boolean[] };
  let offset = 1;
  const o = { id: [] as string[], mid: [] as string[], p: [] as string[] };
  const offline = new Set<string>();
  for (const x of batch) {
    m.su.push(x.senderUserId);
    m.cmi.push(x.clientMessageId);
    m.mid.push(x.messageId);
    m.cid.push(x.conversationId);
    m.sd.push(x.senderDeviceId);
    m.ts.push(x.serverTs);
    m.n.push(x.envelopes.length);
    for (const env of x.envelopes) {
      e.mid.push(x.messageId);
      e.ru.push(env.userId);
      e.rd.push(env.deviceId);
      e.t.push(env.type);
      e.off.push(offset);
      e.len.push(env.body.length);
      e.b.push(env.body);
      e.live.push(env.live ?? false);
      offset += env.body.length;
    }
    for (const q of x.queuedEvents) {
      o.id.push(q.id);
      o.mid.push(x.messageId);
      o.p.push(q.payload);
    }
    for (const u of x.queuedUsers) offline.add(u);
  }
  await db.query({ name: 'request-budget-rows', text: REQUEST_BUDGET_ROWS_SQL, values: [m.su, m.cid, caps.requestWindowSeconds] });
  const res = await db.query({
    name: 'store-messages',
    text: STORE_MESSAGES_SQL,
    values: [
      m.su, m.cmi, m.mid, m.cid, m.sd, m.ts, m.n, e.mid, e.ru, e.rd, e.t, e.off, e.len, Buffer.concat(e.b), o.id, o.mid, o.p, [...offline].sort(),
      caps.messages, caps.bytes, caps.requestMessages, caps.requestBytes, caps.requestWindowSeconds, e.live,
    ],
  });
  const out: StoreResult = { stored: new Set(), refused: new Set(), held: new Map(), full: new Set() };
  for (const r of res.rows as { message_id: string; stored: boolean; held: string[] | null; full: boolean }[]) {
    (r.stored ? out.stored : out.refused).add(r.message_id);
    if (r.held) out.held.set(r.message_id, r.held);
    if (r.full) out.full.add(r.message_id);
  }
  return out;
}

/** Tuning of {@link MessageWriter}. */
export interface MessageWriterOptions {
  /** Lanes, each with one batch in flight (so this many pool connections at most). */
  concurrency: number;
  /** Most messages per batch. */
  maxMessages: number;
  /** Most envelopes per batch. */
  maxEnvelopes: number;
  /** Mailbox caps (default: none). */
  caps?: MailboxCaps;
}

/** One FIFO lane: one batch in flight at a time. */
interface Lane {
  queue: Pending[];
  busy: boolean;
}

/**
 * Write combiner for the message hot path. Each send waits for the commit of the batch it
 * joined (so an ack still means "durably stored"), but under load many sends share one
 * statement and one commit instead of one each: throughput is bounded by
 * batch size / commit latency rather than pool size / commit latency. With no load a batch
 * is a single message and nothing waits.
 *
 * Order: a conversation always maps to the same lane, a lane is FIFO with one batch in
 * flight, and rows within a batch are inserted in queue order. So messages of one
 * conversation are stored (get their `seq`), resolved and delivered in the order they were
 * handed to {@link write}, which lets a client pipeline its sends without losing order.
 */
export class MessageWriter implements MessageWrites {
  private readonly lanes: Lane[];

  /**
   * @param db pool
   * @param logger for batch failures
   * @param options tuning
   */
  constructor(
    private readonly db: Queryable,
    private readonly logger: Logger,
    private readonly options: MessageWriterOptions = { concurrency: 4, maxMessages: 256, maxEnvelopes: 4096 },
  ) {
    this.lanes = Array.from({ length: Math.max(1, options.concurrency) }, () => ({ queue: [], busy: false }));
  }

  /**
   * Queues a message for its lane's next batch (synchronously: call order is write order).
   * @param input the message
   * @returns `stored`, `duplicate` ((sender, clientMessageId) already existed) or `refused` (a membership it relied on was gone)
   */
  write(input: StoreMessageInput): Promise<WriteOutcome> {
    const lane = this.lanes[laneOf(input.conversationId, this.lanes.length)] as Lane;
    return new Promise((resolve, reject) => {
      lane.queue.push({ input, resolve, reject });
      this.pump(lane);
    });
  }

  private pump(lane: Lane): void {
    if (lane.busy || lane.queue.length === 0) return;
    const batch: Pending[] = [];
    let envelopes = 0;
    while (lane.queue.length > 0 && batch.length < this.options.maxMessages) {
      const next = lane.queue[0] as Pending;
      if (batch.length > 0 && envelopes + next.input.envelopes.length > this.options.maxEnvelopes) break;
      envelopes += next.input.envelopes.length;
      batch.push(lane.queue.shift() as Pending);
    }
    lane.busy = true;
    void this.flush(batch).finally(() => {
      lane.busy = false;
      this.pump(lane);
    });
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      const stored = await storeMessages(
        this.db,
        batch.map((p) => p.input),
        this.options.caps,
      );
      for (const p of batch) p.resolve(outcomeOf(stored, p.input));
    } catch (err) {
      if (batch.length === 1) {
        (batch[0] as Pending).reject(err);
        return;
      }
      // One bad message must not fail the others: retry each on its own, in order.
      this.logger.warn({ err: (err as Error).message, size: batch.length }, 'message batch failed; retrying one by one');
      for (const p of batch) {
        try {
          const stored = await storeMessages(this.db, [p.input], this.options.caps);
          p.resolve(outcomeOf(stored, p.input));
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }
}

/** Stable lane of a conversation id (FNV-1a over its text). */
function laneOf(conversationId: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < conversationId.length; i++) {
    h ^= conversationId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % lanes;
}
