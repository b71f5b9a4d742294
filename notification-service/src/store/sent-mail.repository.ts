import type { EntityManager } from 'typeorm';
import type { NotificationKind } from '@cipherchat/contracts';

/** A sent-mail log row to write. Never a token, link or address in clear. */
export interface SentMailRecord {
  eventId: string;
  kind: NotificationKind;
  userId: string | null;
  recipientHash: string | null;
  messageId: string | null;
  status: 'sent' | 'suppressed';
  reason?: string;
}

/**
 * Takes a transaction-scoped advisory lock on one recipient, so two handlers (or replicas)
 * mailing the same address count the hourly limit one after the other.
 * @param m transaction manager
 * @param recipientHash the recipient's keyed hash
 */
export async function lockRecipient(m: EntityManager, recipientHash: string): Promise<void> {
  await m.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`notify:rcpt:${recipientHash}`]);
}

/**
 * Whether a mail for this event and kind is already logged (sent or deliberately skipped).
 * @param m manager
 * @param eventId triggering event (or digest) id
 * @param kind mail kind
 * @returns true when logged
 */
export async function alreadyLogged(m: EntityManager, eventId: string, kind: NotificationKind): Promise<boolean> {
  const rows = (await m.query(`SELECT 1 FROM notify.sent_mail WHERE event_id = $1 AND kind = $2`, [eventId, kind])) as unknown[];
  return rows.length > 0;
}

/**
 * Counts optional mails sent to a recipient in the last hour (the rate limit's window).
 * @param m manager
 * @param recipientHash keyed hash of the address
 * @param kinds kinds that count
 * @returns the count
 */
export async function countSentLastHour(m: EntityManager, recipientHash: string, kinds: readonly NotificationKind[]): Promise<number> {
  const rows = (await m.query(
    `SELECT count(*)::int AS n FROM notify.sent_mail
     WHERE recipient_hash = $1 AND status = 'sent' AND kind = ANY($2::text[]) AND sent_at > now() - interval '1 hour'`,
    [recipientHash, kinds],
  )) as { n: number }[];
  return rows[0]?.n ?? 0;
}

/**
 * Writes a log row; a second row for the same (event, kind) is an error (the unique key is
 * the last line of defence against mailing twice).
 * @param m transaction manager
 * @param r the record
 */
export async function logMail(m: EntityManager, r: SentMailRecord): Promise<void> {
  await m.query(
    `INSERT INTO notify.sent_mail (event_id, kind, user_id, recipient_hash, message_id, status, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [r.eventId, r.kind, r.userId, r.recipientHash, r.messageId, r.status, r.reason ?? null],
  );
}
