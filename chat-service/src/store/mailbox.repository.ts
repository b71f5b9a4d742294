import type { EntityManager } from 'typeorm';
import { outboxInsert } from '@cipherchat/service-kit';
import type { ConversationKind } from '@cipherchat/contracts';
import type { AckRequest, MailboxRow, MailboxStore, SendContext } from '../domain/ports.js';
import { q } from './sql.js';
import type { Queryable } from './message.writer.js';

type RawContext = {
  existing: { messageId: string; conversationId: string; serverTs: string } | null;
  devices: [string, number | null][] | null;
  kind: ConversationKind | null;
};

/**
 * The dedupe lookup plus the conversation's members and their keyed devices, for a send the
 * write statement did not store (to say why; the write itself applies the same rules).
 * @param m manager
 * @param senderUserId sender
 * @param clientMessageId idempotency key
 * @param conversationId conversation
 * @returns the send context
 */
export async function loadSendContext(m: EntityManager, senderUserId: string, clientMessageId: string, conversationId: string): Promise<SendContext> {
  const [row] = (await q(
    m,
    `SELECT
       (SELECT json_build_object('messageId', x.message_id, 'conversationId', x.conversation_id, 'serverTs', x.server_ts)
          FROM chat.messages x WHERE x.sender_user = $1 AND x.client_message_id = $2) AS existing,
       (SELECT json_agg(json_build_array(cm.user_id, d.device_id))
          FROM chat.conversation_members cm
          LEFT JOIN chat.devices d ON d.user_id = cm.user_id AND d.signed_prekey IS NOT NULL
         WHERE cm.conversation_id = $3) AS devices,
       (SELECT c.kind FROM chat.conversations c WHERE c.id = $3) AS kind`,
    [senderUserId, clientMessageId, conversationId],
  )) as RawContext[];
  const pairs = row?.devices ?? [];
  return {
    existing: row?.existing ? { ...row.existing, serverTs: new Date(row.existing.serverTs) } : null,
    members: [...new Set(pairs.map(([u]) => u))],
    devices: pairs.filter((p): p is [string, number] => p[1] !== null).map(([userId, deviceId]) => ({ userId, deviceId })),
    kind: row?.kind ?? null,
  };
}

/** `chat.mailbox_drained.v1` outbox row of {@link ackMessages} (event id $4, payload $5), when `upd` cleared the mark. */
const DRAINED_OUTBOX_ONE = outboxInsert('chat', `SELECT $4, 'chat.mailbox_drained.v1', $1::text, $5::jsonb, now() FROM upd`);

/** `chat.mailbox_drained.v1` outbox rows of {@link ackMessagesBatch} (user ids, event ids, payloads: $8-$10). */
const DRAINED_OUTBOX_BATCH = outboxInsert(
  'chat',
  `SELECT e.id, 'chat.mailbox_drained.v1', upd.user_id::text, e.p, now()
         FROM upd JOIN unnest($8::uuid[], $9::uuid[], $10::jsonb[]) AS e(uid, id, p) ON e.uid = upd.user_id`,
);

/**
 * Reads a device's mailbox in `seq` order after a cursor.
 * @param m manager
 * @param userId recipient
 * @param deviceId recipient device
 * @param afterSeq cursor (exclusive), '0' to start
 * @param limit batch size
 * @param since only rows stored at or after this time
 * @param until only rows stored before this time
 * @returns the batch
 */
export async function readMailbox(
  m: EntityManager,
  userId: string,
  deviceId: number,
  afterSeq: string,
  limit: number,
  since?: Date,
  until?: Date,
): Promise<MailboxRow[]> {
  const rows = (await q(m, 
    `SELECT seq, message_id, conversation_id, sender_user, sender_device, type, body, server_ts FROM chat.mailbox
      WHERE recipient_user = $1 AND recipient_device = $2 AND seq > $3 AND ($5::timestamptz IS NULL OR server_ts >= $5)
        AND ($6::timestamptz IS NULL OR server_ts < $6)
      ORDER BY seq LIMIT $4`,
    [userId, deviceId, afterSeq, limit, since ?? null, until ?? null],
  )) as { seq: string; message_id: string; conversation_id: string; sender_user: string; sender_device: number; type: number; body: Buffer; server_ts: Date }[];
  return rows.map((r) => ({
    seq: String(r.seq),
    messageId: r.message_id,
    conversationId: r.conversation_id,
    senderUserId: r.sender_user,
    senderDeviceId: r.sender_device,
    type: r.type,
    body: r.body,
    serverTs: r.server_ts,
  }));
}

/**
 * Deletes this device's copies of the given messages (never another device's: the recipient
 * user AND device are part of the condition). When that empties the device's mailbox and the
 * user had been announced as having queued messages, the `chat.mailbox_drained.v1` outbox row
 * is written in the same statement.
 * @param db the relaxed-durability pool (a lost ack only means a redelivery)
 * @param userId the caller
 * @param deviceId the caller's device (from the handshake, never from the payload)
 * @param messageIds messages acked
 * @param drained the outbox row to write if the mailbox became empty
 * @returns how many rows were deleted and whether the drained event was recorded
 */
export async function ackMessages(
  db: Queryable,
  userId: string,
  deviceId: number,
  messageIds: string[],
  drained: { id: string; payload: string },
): Promise<{ deleted: number; drainedRecorded: boolean }> {
  const res = await db.query({
    name: 'ack-one',
    text: `WITH del AS (
       DELETE FROM chat.mailbox WHERE recipient_user = $1 AND recipient_device = $2 AND message_id = ANY($3::uuid[]) RETURNING seq
     ), rest AS (
       SELECT EXISTS (SELECT 1 FROM chat.mailbox WHERE recipient_user = $1 AND recipient_device = $2 AND seq NOT IN (SELECT seq FROM del)) AS more
     ), upd AS (
       UPDATE chat.accounts SET pending_queued = false
        WHERE user_id = $1 AND pending_queued AND (SELECT count(*) FROM del) > 0 AND NOT (SELECT more FROM rest)
       RETURNING user_id
     ), ob AS (
       ${DRAINED_OUTBOX_ONE}
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM del)::int AS deleted, (SELECT count(*) FROM ob)::int AS drained`,
    values: [userId, deviceId, messageIds, drained.id, drained.payload],
  });
  const row = res.rows[0] as { deleted: number; drained: number } | undefined;
  return { deleted: row?.deleted ?? 0, drainedRecorded: (row?.drained ?? 0) > 0 };
}

/**
 * Deletes envelopes and dedupe rows older than the retention, in batches, oldest first. Each
 * batch is one statement that commits on its own when `m` is not in a transaction (pass a
 * manager outside one): a large backlog then never holds its row locks, or a long-running
 * transaction, for the whole run, and an interrupted run keeps what it already deleted.
 * @param m manager (not in a transaction)
 * @param before cutoff
 * @param batch rows per statement
 * @returns rows deleted from the mailbox
 */
export async function expireMailbox(m: EntityManager, before: Date, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = (await q(m,
      `DELETE FROM chat.mailbox WHERE seq IN (SELECT seq FROM chat.mailbox WHERE server_ts < $1 ORDER BY seq LIMIT $2) RETURNING 1`,
      [before, batch],
    )) as unknown[];
    total += rows.length;
    if (rows.length < batch) break;
  }
  for (;;) {
    const rows = (await q(m,
      `DELETE FROM chat.messages WHERE (sender_user, client_message_id) IN
         (SELECT sender_user, client_message_id FROM chat.messages WHERE server_ts < $1 LIMIT $2) RETURNING 1`,
      [before, batch],
    )) as unknown[];
    if (rows.length < batch) break;
  }
  // Held tallies of blocked senders age out with the envelopes they stand for.
  await q(m, `DELETE FROM chat.mailbox_held_from WHERE updated_at < $1`, [before]);
  return total;
}

/**
 * {@link ackMessages} for many devices in one statement. Each request deletes only its own
 * device's copies. Account rows are locked in sorted order (`= ANY(sorted array)`), like the
 * message writer does, so the two cannot deadlock each other.
 * @param db the relaxed-durability pool
 * @param reqs the acks
 * @returns per request, in order: rows deleted and whether the drained event was recorded
 */
export async function ackMessagesBatch(db: Queryable, reqs: readonly AckRequest[]): Promise<{ deleted: number; drainedRecorded: boolean }[]> {
  const r = { i: [] as number[], u: [] as string[], d: [] as number[], mid: [] as string[] };
  const dev = { i: [] as number[], u: [] as string[], d: [] as number[] };
  const ev = new Map<string, { id: string; payload: string }>();
  reqs.forEach((q, i) => {
    dev.i.push(i);
    dev.u.push(q.userId);
    dev.d.push(q.deviceId);
    for (const m of q.messageIds) {
      r.i.push(i);
      r.u.push(q.userId);
      r.d.push(q.deviceId);
      r.mid.push(m);
    }
    if (!ev.has(q.userId)) ev.set(q.userId, q.drained);
  });
  const res = await db.query({
    name: 'ack-batch',
    text: `WITH del AS (
       DELETE FROM chat.mailbox mb
        USING unnest($1::int[], $2::uuid[], $3::int[], $4::uuid[]) AS r(i, u, d, mid)
        WHERE mb.recipient_user = r.u AND mb.recipient_device = r.d AND mb.message_id = r.mid
       RETURNING r.i, mb.seq
     ), devs AS (
       SELECT x.i, x.u, x.d, (SELECT count(*) FROM del WHERE del.i = x.i)::int AS deleted,
              EXISTS (SELECT 1 FROM chat.mailbox mb WHERE mb.recipient_user = x.u AND mb.recipient_device = x.d
                        AND mb.seq NOT IN (SELECT seq FROM del)) AS more
         FROM unnest($5::int[], $6::uuid[], $7::int[]) AS x(i, u, d)
     ), upd AS (
       UPDATE chat.accounts SET pending_queued = false
        WHERE user_id = ANY(ARRAY(SELECT DISTINCT u FROM devs WHERE deleted > 0 AND NOT more ORDER BY u)) AND pending_queued
       RETURNING user_id
     ), ob AS (
       ${DRAINED_OUTBOX_BATCH}
       RETURNING aggregate_id
     )
     SELECT devs.i, devs.deleted, EXISTS (SELECT 1 FROM ob WHERE ob.aggregate_id = devs.u::text) AS drained
       FROM devs ORDER BY devs.i`,
    values: [r.i, r.u, r.d, r.mid, dev.i, dev.u, dev.d, [...ev.keys()], [...ev.values()].map((e) => e.id), [...ev.values()].map((e) => e.payload)],
  });
  const rows = res.rows as { i: number; deleted: number; drained: boolean }[];
  return reqs.map((_, i) => ({ deleted: rows[i]?.deleted ?? 0, drainedRecorded: rows[i]?.drained ?? false }));
}

export type { AckRequest, MailboxRow, SendContext };

/**
 * Deletes the (sender, recipient) request budgets whose window started before `before` (a
 * passed window counts as empty anyway; this only keeps the table small).
 * @param m manager
 * @param before start of the current windows
 * @returns rows deleted
 */
export async function expireRequestBudgets(m: EntityManager, before: Date): Promise<number> {
  const rows = (await q(m, `DELETE FROM chat.request_budget WHERE window_start <= $1 RETURNING 1`, [before])) as unknown[];
  return rows.length;
}

/**
 * Reads and resets how many group envelopes were dropped for a device since it last drained
 * (see migration 1796660000000). Held envelopes of blocked senders are not reset here: they
 * age out with the mailbox.
 * @param m manager
 * @param userId recipient
 * @param deviceId recipient device
 * @returns how many group envelopes were dropped for it because its mailbox was full
 */
export async function takeDropped(m: EntityManager, userId: string, deviceId: number): Promise<number> {
  const rows = (await q(m, `DELETE FROM chat.mailbox_held WHERE recipient_user = $1 AND recipient_device = $2 RETURNING missed::int AS missed`, [
    userId,
    deviceId,
  ])) as { missed: number }[];
  return rows[0]?.missed ?? 0;
}

/** The mailbox port of the use cases. */
export const mailboxStore: MailboxStore = { loadSendContext, readMailbox, expireMailbox, expireRequestBudgets, takeDropped };
