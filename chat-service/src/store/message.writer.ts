import type { Logger } from '@cipherchat/service-kit';

/** The bit of a node-postgres pool the writer needs. */
export interface Queryable {
  query(sql: string, params: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A message ready to store. */
export interface StoreMessageInput {
  messageId: string;
  conversationId: string;
  senderUserId: string;
  senderDeviceId: number;
  clientMessageId: string;
  serverTs: Date;
  envelopes: { userId: string; deviceId: number; type: number; body: Buffer }[];
  /** `chat.message_queued.v1` outbox rows (already validated payloads) for offline recipients. */
  queuedEvents: { id: string; payload: string }[];
  /** Recipients those events are for (marked so a later drain publishes `chat.mailbox_drained.v1`). */
  queuedUsers: string[];
}

/**
 * What became of one message: `stored`; `duplicate` (its `(sender, clientMessageId)` already
 * existed); `refused` (the sender or a recipient was no longer a member when it was written:
 * it lost a race with a membership change and nothing of it was stored).
 */
export type WriteOutcome = 'stored' | 'duplicate' | 'refused';

/** Result of {@link storeMessages}. */
export interface StoreResult {
  /** Ids of the messages stored. */
  stored: Set<string>;
  /** Ids of the messages refused because a membership they relied on was gone. */
  refused: Set<string>;
}

interface Pending {
  input: StoreMessageInput;
  resolve: (outcome: WriteOutcome) => void;
  reject: (err: unknown) => void;
}

function outcomeOf(r: StoreResult, messageId: string): WriteOutcome {
  if (r.stored.has(messageId)) return 'stored';
  return r.refused.has(messageId) ? 'refused' : 'duplicate';
}

/**
 * Stores a batch of messages in ONE statement, so one implicit transaction and one commit
 * (one WAL flush) cover them all: the dedupe rows, every envelope as a mailbox row (multi-row
 * insert from arrays), the outbox rows and the pending-digest marks. Mailbox and outbox rows
 * are gated on their message's dedupe insert, so a duplicate `(sender, clientMessageId)`
 * stores nothing.
 *
 * Membership is checked again here, in the same statement: the send's checks ran earlier, and
 * a member removed since must not receive the envelope. A message is stored only if its sender
 * and every recipient are still members; the membership rows it relies on are locked
 * `FOR KEY SHARE`, so a concurrent removal either committed before (the message is refused) or
 * waits for this commit (the envelope was sent while they were a member). Key-share locks do
 * not conflict with each other or with role changes, only with the removal itself.
 * @param db pool
 * @param batch messages
 * @returns the ids stored and the ids refused (every other one was a duplicate)
 */
export async function storeMessages(db: Queryable, batch: readonly StoreMessageInput[]): Promise<StoreResult> {
  const m = { su: [] as string[], cmi: [] as string[], mid: [] as string[], cid: [] as string[], sd: [] as number[], ts: [] as Date[] };
  const e = { mid: [] as string[], ru: [] as string[], rd: [] as number[], t: [] as number[], b: [] as Buffer[] };
  const o = { id: [] as string[], mid: [] as string[], p: [] as string[] };
  const offline = new Set<string>();
  for (const x of batch) {
    m.su.push(x.senderUserId);
    m.cmi.push(x.clientMessageId);
    m.mid.push(x.messageId);
    m.cid.push(x.conversationId);
    m.sd.push(x.senderDeviceId);
    m.ts.push(x.serverTs);
    for (const env of x.envelopes) {
      e.mid.push(x.messageId);
      e.ru.push(env.userId);
      e.rd.push(env.deviceId);
      e.t.push(env.type);
      e.b.push(env.body);
    }
    for (const q of x.queuedEvents) {
      o.id.push(q.id);
      o.mid.push(x.messageId);
      o.p.push(q.payload);
    }
    for (const u of x.queuedUsers) offline.add(u);
  }
  const res = await db.query(
    `WITH msg AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::int[], $6::timestamptz[])
           AS r(sender_user, client_message_id, message_id, conversation_id, sender_device, server_ts)
     ), rcpt AS (
       SELECT DISTINCT msg.message_id, msg.conversation_id, u.ru AS user_id
         FROM unnest($7::uuid[], $8::uuid[]) AS u(mid, ru) JOIN msg ON msg.message_id = u.mid
     ), mem AS (
       -- every membership the batch relies on (senders and recipients), locked against removal
       SELECT cm.conversation_id, cm.user_id FROM chat.conversation_members cm
         JOIN (SELECT conversation_id, sender_user AS user_id FROM msg UNION SELECT conversation_id, user_id FROM rcpt) need
           ON cm.conversation_id = need.conversation_id AND cm.user_id = need.user_id
          FOR KEY SHARE OF cm
     ), ok AS (
       SELECT msg.* FROM msg
        WHERE EXISTS (SELECT 1 FROM mem WHERE mem.conversation_id = msg.conversation_id AND mem.user_id = msg.sender_user)
          AND NOT EXISTS (SELECT 1 FROM rcpt WHERE rcpt.message_id = msg.message_id
                            AND NOT EXISTS (SELECT 1 FROM mem WHERE mem.conversation_id = rcpt.conversation_id AND mem.user_id = rcpt.user_id))
     ), ins AS (
       INSERT INTO chat.messages (sender_user, client_message_id, message_id, conversation_id, sender_device, server_ts)
       SELECT sender_user, client_message_id, message_id, conversation_id, sender_device, server_ts FROM ok
       ON CONFLICT (sender_user, client_message_id) DO NOTHING
       RETURNING message_id, conversation_id, sender_user, sender_device, server_ts
     ), box AS (
       INSERT INTO chat.mailbox (message_id, recipient_user, recipient_device, conversation_id, sender_user, sender_device, type, body, server_ts)
       SELECT u.mid, u.ru, u.rd, ins.conversation_id, ins.sender_user, ins.sender_device, u.t, u.b, ins.server_ts
         FROM unnest($7::uuid[], $8::uuid[], $9::int[], $10::smallint[], $11::bytea[]) WITH ORDINALITY AS u(mid, ru, rd, t, b, ord)
         JOIN ins ON ins.message_id = u.mid
        ORDER BY u.ord
       RETURNING 1
     ), ob AS (
       INSERT INTO chat.outbox (id, type, aggregate_id, payload, occurred_at)
       SELECT x.id, 'chat.message_queued.v1', x.mid::text, x.p, ins.server_ts
         FROM unnest($12::uuid[], $13::uuid[], $14::jsonb[]) AS x(id, mid, p)
         JOIN ins ON ins.message_id = x.mid
       RETURNING 1
     ), pq AS (
       -- "= ANY(sorted ids)" locks account rows in key order: concurrent batches cannot deadlock
       UPDATE chat.accounts SET pending_queued = true
        WHERE user_id = ANY($15::uuid[]) AND NOT pending_queued AND EXISTS (SELECT 1 FROM ins)
       RETURNING 1
     )
     SELECT message_id, true AS stored FROM ins
     UNION ALL
     SELECT message_id, false FROM msg WHERE message_id NOT IN (SELECT message_id FROM ok)`,
    [m.su, m.cmi, m.mid, m.cid, m.sd, m.ts, e.mid, e.ru, e.rd, e.t, e.b, o.id, o.mid, o.p, [...offline].sort()],
  );
  const out: StoreResult = { stored: new Set(), refused: new Set() };
  for (const r of res.rows as { message_id: string; stored: boolean }[]) (r.stored ? out.stored : out.refused).add(r.message_id);
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
export class MessageWriter {
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
      );
      for (const p of batch) p.resolve(outcomeOf(stored, p.input.messageId));
    } catch (err) {
      if (batch.length === 1) {
        (batch[0] as Pending).reject(err);
        return;
      }
      // One bad message must not fail the others: retry each on its own, in order.
      this.logger.warn({ err: (err as Error).message, size: batch.length }, 'message batch failed; retrying one by one');
      for (const p of batch) {
        try {
          const stored = await storeMessages(this.db, [p.input]);
          p.resolve(outcomeOf(stored, p.input.messageId));
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
