import type { EntityManager } from 'typeorm';
import type { PrivacySettings, ReportBody } from '@cipherchat/contracts';
import type { SafetyStore, StoredMembershipState } from '../domain/ports.js';
import { q } from './sql.js';

// Message requests, blocks, privacy settings and reports (issue 15). The presence rule lives
// here too: presence is shared only between users who share a conversation in which BOTH are
// `accepted`, and neither blocked the other.

/**
 * Marks as `request` those of `userIds` (just put in conversation `id` by `actor`) who do not
 * know `actor`: who are not `accepted` in another conversation that `actor` is also in. A block
 * either way also makes it a request: someone I blocked (or who blocked me) no longer vouches
 * for me, or they could put me, auto-accepted, in a group with their other accounts, which would
 * then get my presence.
 * @param m transaction manager
 * @param id the conversation
 * @param actor who created it or added them (stays as they are)
 * @param userIds the members just added
 * @returns the members now in `request`
 */
export async function markRequests(
  m: EntityManager,
  id: string,
  actor: string,
  userIds: string[],
): Promise<string[]> {
  if (userIds.length === 0) return [];
  const rows = await q<{ user_id: string }>(
    m,
    `UPDATE chat.conversation_members t SET state = 'request'
      WHERE t.conversation_id = $1 AND t.user_id = ANY($3::uuid[]) AND t.user_id <> $2
        AND (EXISTS (SELECT 1 FROM chat.blocks b
                      WHERE (b.blocker_id = t.user_id AND b.blocked_id = $2) OR (b.blocker_id = $2 AND b.blocked_id = t.user_id))
          OR NOT EXISTS (
          SELECT 1 FROM chat.conversation_members mine
            JOIN chat.conversation_members theirs ON theirs.conversation_id = mine.conversation_id AND theirs.user_id = $2
           WHERE mine.user_id = t.user_id AND mine.state = 'accepted' AND mine.conversation_id <> $1))
      RETURNING t.user_id`,
    [id, actor, userIds],
  );
  return rows.map((r) => r.user_id);
}

/**
 * Sets the caller's state in a conversation.
 * @param m manager
 * @param id the conversation
 * @param userId the member
 * @param state the new state
 * @returns the state before, or null when `userId` is not a member
 */
export async function setState(
  m: EntityManager,
  id: string,
  userId: string,
  state: StoredMembershipState,
): Promise<StoredMembershipState | null> {
  const [row] = await q<{ before: StoredMembershipState }>(
    m,
    `UPDATE chat.conversation_members t SET state = $3
       FROM chat.conversation_members o
      WHERE t.conversation_id = $1 AND t.user_id = $2 AND o.conversation_id = t.conversation_id AND o.user_id = t.user_id
      RETURNING o.state AS before`,
    [id, userId, state],
  );
  // Accepted now: what the other members had dropped while this was a declined request no
  // longer counts against their mailbox cap (it only stood for envelopes that were never stored).
  if (state === 'accepted' && row && row.before !== 'accepted') await forgetHeld(m, userId, `SELECT user_id FROM chat.conversation_members WHERE conversation_id = $2`, [id]);
  return row?.before ?? null;
}

/**
 * Forgets the held tallies (`chat.mailbox_held_from`) of some senders to one recipient: they
 * stood for envelopes dropped because of a block or decline that is now lifted.
 * @param m manager
 * @param recipient whose devices
 * @param senders a query for the sender ids (its parameters follow `$1`, the recipient)
 * @param params the query's parameters
 */
async function forgetHeld(m: EntityManager, recipient: string, senders: string, params: unknown[]): Promise<void> {
  await q(m, `DELETE FROM chat.mailbox_held_from WHERE recipient_user = $1 AND sender_user IN (${senders})`, [recipient, ...params]);
}

/**
 * @param m manager
 * @param id the conversation
 * @param userId the member
 * @returns the member's state, or null when not a member
 */
export async function stateOf(
  m: EntityManager,
  id: string,
  userId: string,
): Promise<StoredMembershipState | null> {
  const [row] = await q<{ state: StoredMembershipState }>(
    m,
    `SELECT state FROM chat.conversation_members WHERE conversation_id = $1 AND user_id = $2`,
    [id, userId],
  );
  return row?.state ?? null;
}

/** SQL: `o.user_id` (a row of conversation_members `o`) and `$1` did not block each other. */
const NOT_BLOCKED = `NOT EXISTS (SELECT 1 FROM chat.blocks b
   WHERE (b.blocker_id = $1 AND b.blocked_id = o.user_id) OR (b.blocker_id = o.user_id AND b.blocked_id = $1))`;

/**
 * Users who may see `userId`'s presence, and whose presence `userId` may see: they share a
 * conversation in which both are `accepted`, and neither blocked the other.
 * @param m manager
 * @param userId the user
 * @param among only these (all when omitted)
 * @returns distinct user ids, without `userId`
 */
export async function presenceContacts(
  m: EntityManager,
  userId: string,
  among?: string[],
): Promise<string[]> {
  const rows = await q<{ user_id: string }>(
    m,
    `SELECT DISTINCT o.user_id FROM chat.conversation_members me
       JOIN chat.conversation_members o ON o.conversation_id = me.conversation_id AND o.user_id <> me.user_id
      WHERE me.user_id = $1 AND me.state = 'accepted' AND o.state = 'accepted'
        AND ($2::uuid[] IS NULL OR o.user_id = ANY($2::uuid[]))
        AND ${NOT_BLOCKED}`,
    [userId, among ?? null],
  );
  return rows.map((r) => r.user_id);
}

/**
 * @param m manager
 * @param userIds users
 * @returns those of them who turned last seen off
 */
export async function hidingLastSeen(m: EntityManager, userIds: string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const rows = await q<{ user_id: string }>(
    m,
    `SELECT user_id FROM chat.privacy_settings WHERE user_id = ANY($1::uuid[]) AND NOT last_seen`,
    [userIds],
  );
  return rows.map((r) => r.user_id);
}

/**
 * @param m manager
 * @param blocker who blocks
 * @param blocked whom
 * @returns true when the block is new
 */
export async function addBlock(
  m: EntityManager,
  blocker: string,
  blocked: string,
): Promise<boolean> {
  const rows = await q(
    m,
    `INSERT INTO chat.blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
    [blocker, blocked],
  );
  return rows.length > 0;
}

/**
 * @param m manager
 * @param blocker who blocked
 * @param blocked whom
 * @returns true when there was such a block
 */
export async function removeBlock(
  m: EntityManager,
  blocker: string,
  blocked: string,
): Promise<boolean> {
  const rows = await q(
    m,
    `DELETE FROM chat.blocks WHERE blocker_id = $1 AND blocked_id = $2 RETURNING 1`,
    [blocker, blocked],
  );
  if (rows.length > 0) await forgetHeld(m, blocker, `SELECT $2::uuid`, [blocked]);
  return rows.length > 0;
}

/**
 * @param m manager
 * @param blocker the user
 * @returns whom they blocked, most recent first
 */
export async function listBlocks(m: EntityManager, blocker: string): Promise<string[]> {
  const rows = await q<{ blocked_id: string }>(
    m,
    `SELECT blocked_id FROM chat.blocks WHERE blocker_id = $1 ORDER BY created_at DESC, blocked_id`,
    [blocker],
  );
  return rows.map((r) => r.blocked_id);
}

/**
 * @param m manager
 * @param userId the user
 * @returns their privacy settings, or null when they never changed them
 */
export async function getPrivacy(
  m: EntityManager,
  userId: string,
): Promise<PrivacySettings | null> {
  const [row] = await q<{ read_receipts: boolean; typing: boolean; last_seen: boolean }>(
    m,
    `SELECT read_receipts, typing, last_seen FROM chat.privacy_settings WHERE user_id = $1`,
    [userId],
  );
  return row
    ? { readReceipts: row.read_receipts, typing: row.typing, lastSeen: row.last_seen }
    : null;
}

/**
 * @param m manager
 * @param userId the user
 * @param s the new settings
 */
export async function putPrivacy(
  m: EntityManager,
  userId: string,
  s: PrivacySettings,
): Promise<void> {
  await q(
    m,
    `INSERT INTO chat.privacy_settings (user_id, read_receipts, typing, last_seen) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id) DO UPDATE SET read_receipts = $2, typing = $3, last_seen = $4, updated_at = now()`,
    [userId, s.readReceipts, s.typing, s.lastSeen],
  );
}

/**
 * Whether two users share a conversation (in any state: a request, or one declined, counts),
 * and when `conversationId` is given, that one.
 * @param m manager
 * @param a one user
 * @param b the other
 * @param conversationId optionally, the conversation they must share
 * @returns true when they do
 */
export async function shareConversation(
  m: EntityManager,
  a: string,
  b: string,
  conversationId?: string,
): Promise<boolean> {
  const rows = await q(
    m,
    `SELECT 1 FROM chat.conversation_members x JOIN chat.conversation_members y ON y.conversation_id = x.conversation_id
      WHERE x.user_id = $1 AND y.user_id = $2 AND ($3::uuid IS NULL OR x.conversation_id = $3) LIMIT 1`,
    [a, b, conversationId ?? null],
  );
  return rows.length > 0;
}

/**
 * Stores a report for the operators.
 * @param m manager
 * @param id new id
 * @param reporter who reports
 * @param r the report
 */
export async function insertReport(
  m: EntityManager,
  id: string,
  reporter: string,
  r: ReportBody,
): Promise<void> {
  await q(
    m,
    `INSERT INTO chat.reports (id, reporter_id, reported_id, conversation_id, reason, note) VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, reporter, r.userId, r.conversationId ?? null, r.reason, r.note ?? ''],
  );
}

/**
 * Deletes the envelopes still waiting for a user from one conversation (declined) or one
 * sender (blocked): what was stored before the decline or block is not delivered either.
 * @param m manager
 * @param recipient the user who declined or blocked
 * @param from the conversation declined, or the sender blocked
 * @returns envelopes deleted
 */
export async function dropWaiting(
  m: EntityManager,
  recipient: string,
  from: { conversationId: string } | { senderUserId: string },
): Promise<number> {
  const [column, value] =
    'conversationId' in from
      ? ['conversation_id', from.conversationId]
      : ['sender_user', from.senderUserId];
  const rows = await q(
    m,
    `DELETE FROM chat.mailbox WHERE recipient_user = $1 AND ${column} = $2 RETURNING 1`,
    [recipient, value],
  );
  return rows.length;
}

/** The safety port of the use cases. */
export const safetyStore: SafetyStore = {
  markRequests,
  setState,
  stateOf,
  presenceContacts,
  hidingLastSeen,
  addBlock,
  removeBlock,
  listBlocks,
  getPrivacy,
  putPrivacy,
  shareConversation,
  insertReport,
  dropWaiting,
};
