import { outboxInsert } from '@cipherchat/service-kit';

// The SQL text of the message writer's send statement (see storeMessages in message.writer.ts).

/** `chat.message_queued.v1` outbox rows of the messages stored (`ins`), from parameters $15-$17. */
const QUEUED_OUTBOX = outboxInsert(
  'chat',
  `SELECT x.id, 'chat.message_queued.v1', x.mid::text, x.p, ins.server_ts
         FROM unnest($15::uuid[], $16::uuid[], $17::jsonb[]) AS x(id, mid, p)
         JOIN ins ON ins.message_id = x.mid
        WHERE NOT EXISTS (SELECT 1 FROM held WHERE held.message_id = x.mid AND held.user_id = (x.p->>'recipientUserId')::uuid)`,
);

/** The batched store statement (see `storeMessages` in message.writer.ts); one text, so one named statement. */
export const STORE_MESSAGES_SQL = `WITH msg AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::int[], $6::timestamptz[], $7::int[])
           WITH ORDINALITY AS r(sender_user, client_message_id, message_id, conversation_id, sender_device, server_ts, envelopes, ord)
     ), env AS (
       SELECT * FROM unnest($8::uuid[], $9::uuid[], $10::int[], $11::smallint[], $12::int[], $13::int[], $24::bool[])
           WITH ORDINALITY AS u(mid, ru, rd, t, off, len, live, ord)
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
     ), fullenv AS (
       -- envelopes that would overfill their device's mailbox (the overall caps, for every
       -- recipient). What waits = added - removed (two tallies, so sends never wait for acks'
       -- row locks) + this sender's own envelopes dropped as held while the device was offline
       -- (counted as if stored, for this sender only: a blocked sender runs into the cap as if
       -- their messages were waiting, and takes no room from anyone else)
       SELECT fill.mid, fill.ru, fill.rd FROM fill
         JOIN msg hm ON hm.message_id = fill.mid
         LEFT JOIN chat.mailbox_added a ON a.recipient_user = fill.ru AND a.recipient_device = fill.rd
         LEFT JOIN chat.mailbox_removed r ON r.recipient_user = fill.ru AND r.recipient_device = fill.rd
         LEFT JOIN chat.mailbox_held_from h ON h.recipient_user = fill.ru AND h.recipient_device = fill.rd AND h.sender_user = hm.sender_user
        WHERE coalesce(a.messages, 0) - coalesce(r.messages, 0) + coalesce(h.messages, 0) + fill.n > $19
           OR coalesce(a.bytes, 0) - coalesce(r.bytes, 0) + coalesce(h.bytes, 0) + fill.b > $20
     ), overfull AS (
       -- direct and self messages with such an envelope are refused; in a group only that
       -- envelope is dropped (and counted as missed), or one member's full device (say a second
       -- one they filled from their self conversation) would silence the whole group
       SELECT DISTINCT fullenv.mid FROM fullenv JOIN msg ON msg.message_id = fullenv.mid
         JOIN shape ON shape.id = msg.conversation_id
        WHERE shape.kind <> 'group'
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
     ), budget AS (
       -- the budget rows of the pairs (made beforehand by REQUEST_BUDGET_ROWS_SQL), locked in key
       -- order: a concurrent batch spending one of them (on another writer lane or process)
       -- commits first and this one reads what it spent (a locking read sees the newest row
       -- version), so budgets are never overspent; key order, so batches cannot deadlock
       SELECT rb.sender_user, rb.recipient_user, rb.window_start, rb.messages, rb.bytes FROM chat.request_budget rb
        WHERE (rb.sender_user, rb.recipient_user) IN (SELECT sender_user, user_id FROM want)
        ORDER BY 1, 2 FOR UPDATE
     ), overpair AS (
       -- (message, recipient) pairs over a budget: what the pair spent in its window + the batch's
       SELECT want.message_id, want.user_id, want.grp FROM want
         LEFT JOIN budget rb ON rb.sender_user = want.sender_user AND rb.recipient_user = want.user_id
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
          -- a group envelope for a full mailbox (a direct or self one was refused in ok)
          AND NOT EXISTS (SELECT 1 FROM fullenv f WHERE f.mid = env.mid AND f.ru = env.ru AND f.rd = env.rd)
        ORDER BY env.ord
       RETURNING recipient_user
     ), tally AS (
       -- held envelopes of direct and self messages to a device not connected (one that is would
       -- have acked a stored one at once), per (device, sender), in key order (no deadlock
       -- between batches): they count against that sender's cap check only, until they age out
       INSERT INTO chat.mailbox_held_from AS h (recipient_user, recipient_device, sender_user, messages, bytes)
       SELECT env.ru, env.rd, ins.sender_user, count(*), sum(env.len)
         FROM env JOIN ins ON ins.message_id = env.mid JOIN shape ON shape.id = ins.conversation_id
        WHERE shape.kind <> 'group' AND NOT env.live
          AND EXISTS (SELECT 1 FROM held WHERE held.message_id = env.mid AND held.user_id = env.ru)
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
       ON CONFLICT (recipient_user, recipient_device, sender_user) DO UPDATE SET
         messages = h.messages + excluded.messages, bytes = h.bytes + excluded.bytes, updated_at = now()
       RETURNING 1
     ), missed AS (
       -- group envelopes dropped for a full mailbox, per device in key order: told to the device
       -- when it drains
       INSERT INTO chat.mailbox_held AS h (recipient_user, recipient_device, missed)
       SELECT env.ru, env.rd, count(*)
         FROM env JOIN ins ON ins.message_id = env.mid
         JOIN fullenv f ON f.mid = env.mid AND f.ru = env.ru AND f.rd = env.rd
        WHERE NOT EXISTS (SELECT 1 FROM held WHERE held.message_id = env.mid AND held.user_id = env.ru)
        GROUP BY 1, 2 ORDER BY 1, 2
       ON CONFLICT (recipient_user, recipient_device) DO UPDATE SET missed = least(h.missed + excluded.missed, 2147483647)
       RETURNING 1
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
 * Run before the send statement (on its own): makes the `chat.request_budget` row of every
 * (sender, member) pair of the batch whose member has not accepted the conversation or
 * declined it (an empty window from now; a row whose window has passed starts a new one, so
 * the retention sweep, which waits a second window, cannot delete it before the send statement
 * runs). The send statement then locks these rows `FOR UPDATE` before it reads them: a row it
 * did not find could not be locked, and two batches would each spend the whole budget.
 * Parameters: senders $1, conversations $2 (one per message), window seconds $3.
 */
export const REQUEST_BUDGET_ROWS_SQL = `INSERT INTO chat.request_budget (sender_user, recipient_user, window_start, messages, bytes)
     SELECT DISTINCT m.s, cm.user_id, now(), 0, 0
       FROM unnest($1::uuid[], $2::uuid[]) AS m(s, c)
       JOIN chat.conversation_members cm ON cm.conversation_id = m.c AND cm.state IN ('request', 'declined') AND cm.user_id <> m.s
      WHERE EXISTS (SELECT 1 FROM chat.conversation_members sm WHERE sm.conversation_id = m.c AND sm.user_id = m.s)
      ORDER BY 1, 2
     ON CONFLICT (sender_user, recipient_user) DO UPDATE SET window_start = now(), messages = 0, bytes = 0
      WHERE chat.request_budget.window_start <= now() - $3 * interval '1 second'`;
