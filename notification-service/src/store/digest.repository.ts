import type { EntityManager } from 'typeorm';

/** One unread message counted in a digest. */
export interface DigestItem {
  messageId: string;
  senderUserId: string;
  queuedAt: Date;
}

/** A due digest claimed by one scheduler. */
export interface ClaimedDigest {
  userId: string;
  digestId: string;
  attempts: number;
}

/**
 * Records an unread message and arms the user's digest: due `delay` after the oldest unread
 * message, but not sooner than `repeatHours` after the previous digest of the same absence.
 * A message already recorded (redelivery, or one event per device) is counted once.
 * @param m transaction manager
 * @param userId recipient
 * @param item message id, sender, time queued
 * @param delayMinutes the recipient's delay
 * @param repeatHours minimum gap between digests
 */
export async function addDigestItem(m: EntityManager, userId: string, item: DigestItem, delayMinutes: number, repeatHours: number): Promise<void> {
  const inserted = (await m.query(
    `INSERT INTO notify.digest_items (user_id, message_id, sender_user_id, queued_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING message_id`,
    [userId, item.messageId, item.senderUserId, item.queuedAt],
  )) as unknown[];
  if (inserted.length === 0) return;
  await m.query(
    `INSERT INTO notify.digests AS d (user_id, digest_id, due_at)
     VALUES ($1, gen_random_uuid(), $2::timestamptz + make_interval(secs => $3::float8 * 60))
     ON CONFLICT (user_id) DO UPDATE SET
       digest_id = COALESCE(d.digest_id, EXCLUDED.digest_id),
       due_at = GREATEST(LEAST(COALESCE(d.due_at, 'infinity'), EXCLUDED.due_at),
                         COALESCE(d.last_sent_at + make_interval(secs => $4::float8 * 3600), '-infinity'))`,
    [userId, item.queuedAt, delayMinutes, repeatHours],
  );
}

/**
 * The user came back and read: drops messages queued up to `at`. With nothing left the
 * pending digest is cancelled and the next absence starts fresh; messages that arrived after
 * `at` (events can cross) re-arm it from the oldest of them.
 * @param m transaction manager
 * @param userId the user
 * @param at when the mailbox was drained
 * @param delayMinutes the user's delay
 */
export async function drainDigest(m: EntityManager, userId: string, at: Date, delayMinutes: number): Promise<void> {
  await m.query(`DELETE FROM notify.digest_items WHERE user_id = $1 AND queued_at <= $2`, [userId, at]);
  await m.query(
    `UPDATE notify.digests d SET
       last_sent_at = NULL, attempts = 0,
       due_at = (SELECT min(queued_at) + make_interval(secs => $2::float8 * 60) FROM notify.digest_items i WHERE i.user_id = d.user_id),
       digest_id = CASE WHEN EXISTS (SELECT 1 FROM notify.digest_items i WHERE i.user_id = d.user_id)
                        THEN COALESCE(d.digest_id, gen_random_uuid()) ELSE NULL END
     WHERE user_id = $1`,
    [userId, delayMinutes],
  );
}

/**
 * Claims the oldest due digest for this transaction. `FOR UPDATE SKIP LOCKED` lets several
 * replicas run the scheduler at once: each claims a different row, none waits or doubles.
 * @param m transaction manager (the claim lasts until it commits)
 * @param now "now" (injectable so tests need no sleeping)
 * @returns the claimed digest or undefined
 */
export async function claimDueDigest(m: EntityManager, now: Date): Promise<ClaimedDigest | undefined> {
  const rows = (await m.query(
    `SELECT user_id, digest_id, attempts FROM notify.digests
     WHERE due_at <= $1 ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [now],
  )) as { user_id: string; digest_id: string | null; attempts: number }[];
  const r = rows[0];
  if (!r) return undefined;
  if (!r.digest_id) {
    // a due row without an id can only come from a manual edit; give it one
    const [fixed] = (await m.query(`UPDATE notify.digests SET digest_id = gen_random_uuid() WHERE user_id = $1 RETURNING digest_id`, [r.user_id])) as { digest_id: string }[];
    return { userId: r.user_id, digestId: fixed!.digest_id, attempts: r.attempts };
  }
  return { userId: r.user_id, digestId: r.digest_id, attempts: r.attempts };
}

/**
 * Unread messages of a pending digest.
 * @param m manager
 * @param userId recipient
 * @returns items, oldest first
 */
export async function digestItems(m: EntityManager, userId: string): Promise<DigestItem[]> {
  const rows = (await m.query(
    `SELECT message_id, sender_user_id, queued_at FROM notify.digest_items WHERE user_id = $1 ORDER BY queued_at`,
    [userId],
  )) as { message_id: string; sender_user_id: string; queued_at: Date }[];
  return rows.map((r) => ({ messageId: r.message_id, senderUserId: r.sender_user_id, queuedAt: r.queued_at }));
}

/**
 * Closes a digest after it was sent (or deliberately skipped): its messages are done, and the
 * next digest of this absence waits for new messages and the repeat gap.
 * @param m transaction manager
 * @param userId recipient
 * @param messageIds the messages the digest covered
 * @param sent whether a mail went out (sets last_sent_at)
 */
export async function closeDigest(m: EntityManager, userId: string, messageIds: readonly string[], sent: boolean): Promise<void> {
  await m.query(`DELETE FROM notify.digest_items WHERE user_id = $1 AND message_id = ANY($2::uuid[])`, [userId, messageIds]);
  await m.query(
    `UPDATE notify.digests SET due_at = NULL, digest_id = NULL, attempts = 0${sent ? ', last_sent_at = now()' : ''} WHERE user_id = $1`,
    [userId],
  );
}

/**
 * Pushes a failed digest back for a later try.
 * @param m transaction manager
 * @param userId recipient
 * @param retryAt when to try again
 */
export async function postponeDigest(m: EntityManager, userId: string, retryAt: Date): Promise<void> {
  await m.query(`UPDATE notify.digests SET attempts = attempts + 1, due_at = $2 WHERE user_id = $1`, [userId, retryAt]);
}
