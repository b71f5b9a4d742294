import { outboxInsert, type Logger } from '@cipherchat/service-kit';
import type { MessageWrites, StoreMessageInput, WriteOutcome } from '../domain/ports.js';

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

/** `chat.message_queued.v1` outbox rows of the messages stored (`ins`), from parameters $15-$17. */
const QUEUED_OUTBOX = outboxInsert(
  'chat',
  `SELECT x.id, 'chat.message_queued.v1', x.mid::text, x.p, ins.server_ts
         FROM unnest($15::uuid[], $16::uuid[], $17::jsonb[]) AS x(id, mid, p)
         JOIN ins ON ins.message_id = x.mid
        WHERE NOT EXISTS (SELECT 1 FROM held WHERE held.message_id = x.mid AND held.user_id = (x.p->>'recipientUserId')::uuid)`,
);

/** The batched store statement (see {@link storeMessages}); one text, so one named statement. */
const STORE_MESSAGES_SQL = `WITH msg AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::int[], $6::timestamptz[], $7::int[])
           WITH ORDINALITY AS r(sender_user, client_message_id, message_id, conversation_id, sender_device, server_ts, envelopes, ord)
     ), env AS (
       SELECT * FROM unnest($8::uuid[], $9::uuid[], $10::int[], $11::smallint[], $12::int[], $13::int[])
           WITH ORDINALITY AS u(mid, ru, rd, t, off, len, ord)
     ), rcpt AS (
       SELECT DISTINCT msg.message_id, msg.conversation_id, msg.sender_user, env.ru AS user_id FROM env JOIN msg ON msg.message_id = env.mid
     ), mem AS (
       -- every membership the batch relies on (senders and recipients), locked against removal
       SELECT cm.conversation_id, cm.user_id, cm.state FROM chat.conversation_members cm
         JOIN (SELECT conversation_id, sender_user AS user_id FROM msg UNION SELECT conversation_id, user_id FROM rcpt) need
           ON cm.conversation_id = need.conversation_id AND cm.user_id = need.user_id
          FOR KEY SHARE OF cm
     ), devs AS (
       -- per message: the devices it must address, and how many of them it does
       SELECT msg.message_id, count(*) AS expected, count(env.mid) AS addressed
         FROM msg
         JOIN chat.conversation_members cm ON cm.conversation_id = msg.conversation_id
         JOIN chat.devices d ON d.user_id = cm.user_id AND d.signed_prekey IS NOT NULL
         LEFT JOIN env ON env.mid = msg.message_id AND env.ru = d.user_id AND env.rd = d.device_id
        WHERE (d.user_id, d.device_id) <> (msg.sender_user, msg.sender_device)
        GROUP BY msg.message_id
     ), shape AS (
       -- per conversation of the batch (a primary-key lookup; groups stop there): a direct
       -- conversation must have exactly 2 members, a self conversation 1
       SELECT c.id, c.kind FROM chat.conversations c
        WHERE c.id IN (SELECT conversation_id FROM msg)
          AND (c.kind = 'group'
               OR (SELECT count(*) FROM chat.conversation_members x WHERE x.conversation_id = c.id) = CASE c.kind WHEN 'direct' THEN 2 ELSE 1 END)
     ), fill AS (
       -- per envelope: what its device's mailbox would hold with it and the batch's earlier ones
       SELECT env.mid, env.ru, env.rd, count(*) OVER w AS n, sum(env.len) OVER w AS b
         FROM env WINDOW w AS (PARTITION BY env.ru, env.rd ORDER BY env.ord)
     ), overfull AS (
       -- messages that would overfill a device's mailbox (the overall caps, for every recipient)
       SELECT DISTINCT fill.mid FROM fill
         -- what waits = added - removed (two tallies, so sends never wait for acks' row locks)
         LEFT JOIN chat.mailbox_added a ON a.recipient_user = fill.ru AND a.recipient_device = fill.rd
         LEFT JOIN chat.mailbox_removed r ON r.recipient_user = fill.ru AND r.recipient_device = fill.rd
        WHERE coalesce(a.messages, 0) - coalesce(r.messages, 0) + fill.n > $19
           OR coalesce(a.bytes, 0) - coalesce(r.bytes, 0) + fill.b > $20
     ), guard AS (
       -- recipients who have not accepted the conversation (a request), declined it or blocked
       -- the sender (membership state: already read and locked by mem). held = their envelopes
       -- are dropped quietly. budgeted = a request or declined: a send to them spends the
       -- (sender, recipient) budget, stored or dropped alike, so its answer never tells whether
       -- they declined. A blocked contact of an accepted conversation spends nothing, or running
       -- into the budget would tell them about the block (a request's budget hides that too).
       SELECT rcpt.message_id, rcpt.sender_user, rcpt.user_id, coalesce(rm.state = 'declined' OR bl.blocked, false) AS held,
              coalesce(rm.state IN ('request', 'declined'), false) AS budgeted
         FROM rcpt
         LEFT JOIN mem rm ON rm.conversation_id = rcpt.conversation_id AND rm.user_id = rcpt.user_id
         CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM chat.blocks b WHERE b.blocker_id = rcpt.user_id AND b.blocked_id = rcpt.sender_user) AS blocked) bl
        WHERE rcpt.user_id <> rcpt.sender_user AND (rm.state IN ('request', 'declined') OR bl.blocked)
     ), valid AS (
       -- messages that pass every check but the caps and budgets
       SELECT msg.* FROM msg LEFT JOIN devs ON devs.message_id = msg.message_id
        WHERE coalesce(devs.expected, 0) = msg.envelopes AND coalesce(devs.addressed, 0) = msg.envelopes
          AND EXISTS (SELECT 1 FROM shape WHERE shape.id = msg.conversation_id)
          AND EXISTS (SELECT 1 FROM mem WHERE mem.conversation_id = msg.conversation_id AND mem.user_id = msg.sender_user)
          AND NOT EXISTS (SELECT 1 FROM rcpt WHERE rcpt.message_id = msg.message_id
                            AND NOT EXISTS (SELECT 1 FROM mem WHERE mem.conversation_id = rcpt.conversation_id AND mem.user_id = rcpt.user_id))
     ), want AS (
       -- per budgeted recipient of a message refused for nothing else: what the message spends
       -- (one message, the bytes of that user's envelopes), and with the batch's earlier ones
       SELECT g.message_id, g.sender_user, g.user_id, sh.kind = 'group' AS grp, s.b1, count(*) OVER w AS n, sum(s.b1) OVER w AS b
         FROM guard g JOIN valid v ON v.message_id = g.message_id JOIN shape sh ON sh.id = v.conversation_id
         CROSS JOIN LATERAL (SELECT sum(env.len) AS b1 FROM env WHERE env.mid = g.message_id AND env.ru = g.user_id) s
        WHERE g.budgeted AND NOT EXISTS (SELECT 1 FROM overfull WHERE overfull.mid = g.message_id)
       WINDOW w AS (PARTITION BY g.sender_user, g.user_id ORDER BY v.ord)
     ), overpair AS (
       -- (message, recipient) pairs over a budget: what the pair spent in its window + the batch's
       SELECT want.message_id, want.user_id, want.grp FROM want
         LEFT JOIN chat.request_budget rb ON rb.sender_user = want.sender_user AND rb.recipient_user = want.user_id
              AND rb.window_start > now() - $23 * interval '1 second'
        WHERE coalesce(rb.messages, 0) + want.n > $21 OR coalesce(rb.bytes, 0) + want.b > $22
     ), overbudget AS (
       -- a direct message over budget is refused; in a group only that member's envelopes are
       -- dropped (held below), or one member who has not accepted would silence the whole group
       SELECT DISTINCT overpair.message_id FROM overpair WHERE NOT overpair.grp
     ), ok AS (
       SELECT valid.* FROM valid
        WHERE NOT EXISTS (SELECT 1 FROM overfull WHERE overfull.mid = valid.message_id)
          AND NOT EXISTS (SELECT 1 FROM overbudget WHERE overbudget.message_id = valid.message_id)
     ), held AS (
       -- recipients who declined the conversation or blocked the sender, and group members over
       -- the sender's budget with them: their envelopes are dropped quietly (the send succeeds)
       SELECT guard.message_id, guard.user_id FROM guard WHERE guard.held
       UNION SELECT overpair.message_id, overpair.user_id FROM overpair WHERE overpair.grp
     ), ins AS (
       INSERT INTO chat.messages (sender_user, client_message_id, message_id, conversation_id, sender_device, server_ts)
       -- in batch order: of two sends with one (sender, clientMessageId), the first is stored
       SELECT sender_user, client_message_id, message_id, conversation_id, sender_device, server_ts FROM ok ORDER BY ord
       ON CONFLICT (sender_user, client_message_id) DO NOTHING
       RETURNING message_id, conversation_id, sender_user, sender_device, server_ts
     ), box AS (
       INSERT INTO chat.mailbox (message_id, recipient_user, recipient_device, conversation_id, sender_user, sender_device, type, body, server_ts)
       SELECT env.mid, env.ru, env.rd, ins.conversation_id, ins.sender_user, ins.sender_device, env.t, substring($14::bytea FROM env.off FOR env.len), ins.server_ts
         FROM env JOIN ins ON ins.message_id = env.mid
        WHERE NOT EXISTS (SELECT 1 FROM held WHERE held.message_id = env.mid AND held.user_id = env.ru)
        ORDER BY env.ord
       RETURNING recipient_user
     ), ob AS (
       ${QUEUED_OUTBOX}
       RETURNING 1
     ), pq AS (
       -- offline recipients who got an envelope stored (never for one that was dropped: no digest
       -- tells a blocker about it); "= ANY(sorted ids)" locks account rows in key order, so
       -- concurrent batches cannot deadlock
       UPDATE chat.accounts SET pending_queued = true
        WHERE user_id = ANY(ARRAY(SELECT DISTINCT box.recipient_user FROM box WHERE box.recipient_user = ANY($18::uuid[]) ORDER BY 1))
          AND NOT pending_queued
       RETURNING 1
     ), spent AS (
       -- the budgets spent by the messages stored (dropped envelopes included), pairs in key
       -- order so that concurrent batches cannot deadlock; a passed window starts again
       INSERT INTO chat.request_budget AS rb (sender_user, recipient_user, window_start, messages, bytes)
       SELECT want.sender_user, want.user_id, now(), count(*), sum(want.b1) FROM want JOIN ins ON ins.message_id = want.message_id
        GROUP BY 1, 2 ORDER BY 1, 2
       ON CONFLICT (sender_user, recipient_user) DO UPDATE SET
         window_start = CASE WHEN rb.window_start > now() - $23 * interval '1 second' THEN rb.window_start ELSE excluded.window_start END,
         messages = CASE WHEN rb.window_start > now() - $23 * interval '1 second' THEN rb.messages + excluded.messages ELSE excluded.messages END,
         bytes = CASE WHEN rb.window_start > now() - $23 * interval '1 second' THEN rb.bytes + excluded.bytes ELSE excluded.bytes END
       RETURNING 1
     )
     SELECT message_id, true AS stored, (SELECT array_agg(held.user_id) FROM held WHERE held.message_id = ins.message_id) AS held, false AS full FROM ins
     UNION ALL
     SELECT message_id, false, NULL, message_id IN (SELECT mid FROM overfull UNION ALL SELECT message_id FROM overbudget) FROM msg WHERE message_id NOT IN (SELECT message_id FROM ok)`;

/**
 * Stores a batch of messages in ONE statement, so one implicit transaction and one commit
 * (one WAL flush) cover them all: the dedupe rows, every envelope as a mailbox row (multi-row
 * insert from arrays), the outbox rows and the pending-digest marks. Mailbox and outbox rows
 * are gated on their message's dedupe insert, so a duplicate `(sender, clientMessageId)`
 * stores nothing.
 *
 * The send's checks are part of the same statement (no query before it): a message is stored
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
 * Mailbox caps: a message is also refused (and reported in `full`) when one of its envelopes
 * would take its device's mailbox over the caps, counting what waits there
 * (`chat.mailbox_added` less `chat.mailbox_removed`, kept by triggers) plus the batch's earlier envelopes to that device.
 * Request budgets: when a recipient has not accepted the conversation (a `request`) or declined
 * it, the message must also fit the (sender, recipient) budget of the current window
 * (`chat.request_budget`: what the pair spent, plus the batch's earlier messages to them). Over
 * it, a direct message is refused the same way; in a group only that member's envelopes are
 * dropped (`held`). A message stored spends it, dropped envelopes included; one refused spends
 * nothing. A blocked contact in an accepted conversation spends nothing (their envelopes are
 * dropped, never refused), so nothing ever tells them about the block. Budgets never depend on
 * the mailbox, so the answer does not tell whether the recipient came online, blocked or
 * declined. Offline recipients are marked for a digest only for an envelope stored. Two batches
 * in flight at once do not see each other: a mailbox or budget may overshoot by one batch.
 * @param db pool
 * @param batch messages (no two envelopes of one message for the same device)
 * @param caps the mailbox caps
 * @returns the ids stored and the ids refused (every other one was a duplicate)
 */
export async function storeMessages(db: Queryable, batch: readonly StoreMessageInput[], caps: MailboxCaps = NO_CAPS): Promise<StoreResult> {
  const m = { su: [] as string[], cmi: [] as string[], mid: [] as string[], cid: [] as string[], sd: [] as number[], ts: [] as Date[], n: [] as number[] };
  // Bodies go as ONE binary parameter plus offsets and lengths: an array of buffers would be
  // sent as a hex text literal (twice the bytes, escaped here and parsed again there).
  const e = { mid: [] as string[], ru: [] as string[], rd: [] as number[], t: [] as number[], off: [] as number[], len: [] as number[], b: [] as Buffer[] };
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
      offset += env.body.length;
    }
    for (const q of x.queuedEvents) {
      o.id.push(q.id);
      o.mid.push(x.messageId);
      o.p.push(q.payload);
    }
    for (const u of x.queuedUsers) offline.add(u);
  }
  const res = await db.query({
    name: 'store-messages',
    text: STORE_MESSAGES_SQL,
    values: [
      m.su, m.cmi, m.mid, m.cid, m.sd, m.ts, m.n, e.mid, e.ru, e.rd, e.t, e.off, e.len, Buffer.concat(e.b), o.id, o.mid, o.p, [...offline].sort(),
      caps.messages, caps.bytes, caps.requestMessages, caps.requestBytes, caps.requestWindowSeconds,
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
