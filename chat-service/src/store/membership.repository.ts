import type { EntityManager } from 'typeorm';
import type { ConversationRole } from '@cipherchat/contracts';
import { q } from './sql.js';

// Memberships: who is in a conversation with which role, member changes (which touch the
// conversation's `updated_at`), and who shares a conversation with whom (presence, identity
// changes and device lists follow that). Creating, finding and listing conversations is in
// conversation.repository.ts; a member's request/accepted/declined state in safety.repository.ts.

/**
 * @param m manager
 * @param id conversation
 * @param userId user
 * @returns the user's role, or null when not a member
 */
export async function roleOf(
  m: EntityManager,
  id: string,
  userId: string,
  lock = false,
): Promise<ConversationRole | null> {
  const [row] = (await q(
    m,
    `SELECT role FROM chat.conversation_members WHERE conversation_id = $1 AND user_id = $2${lock ? ' FOR UPDATE' : ''}`,
    [id, userId],
  )) as { role: ConversationRole }[];
  return row?.role ?? null;
}

/**
 * Adds members (existing ones are left as they are).
 * @param m manager
 * @param id conversation
 * @param userIds users to add
 * @returns the ids actually added
 */
export async function addMembers(
  m: EntityManager,
  id: string,
  userIds: string[],
): Promise<string[]> {
  const rows = (await q(
    m,
    `INSERT INTO chat.conversation_members (conversation_id, user_id, role) SELECT $1, u, 'member' FROM unnest($2::uuid[]) AS u
     ON CONFLICT DO NOTHING RETURNING user_id`,
    [id, userIds],
  )) as { user_id: string }[];
  await touch(m, id);
  return rows.map((r) => r.user_id);
}

/**
 * Removes a member; when the owner leaves, the longest-standing admin (else member) becomes
 * owner; an empty group or self conversation is deleted.
 * @param m transaction manager
 * @param id conversation
 * @param userId member to remove
 */
export async function removeMember(m: EntityManager, id: string, userId: string): Promise<void> {
  const [removed] = (await q(
    m,
    `DELETE FROM chat.conversation_members WHERE conversation_id = $1 AND user_id = $2 RETURNING role`,
    [id, userId],
  )) as {
    role: ConversationRole;
  }[];
  if (!removed) return;
  const [left] = (await q(
    m,
    `SELECT count(*)::int AS n FROM chat.conversation_members WHERE conversation_id = $1`,
    [id],
  )) as { n: number }[];
  if (!left || left.n === 0) {
    // an empty group or self conversation goes (a direct one stays: its key holds the pair)
    await q(m, `DELETE FROM chat.conversations WHERE id = $1 AND kind IN ('group', 'self')`, [id]);
    return;
  }
  if (removed.role === 'owner') {
    await q(
      m,
      `UPDATE chat.conversation_members SET role = 'owner' WHERE conversation_id = $1 AND user_id = (
         SELECT user_id FROM chat.conversation_members WHERE conversation_id = $1
          ORDER BY (role = 'admin') DESC, joined_at, user_id LIMIT 1)`,
      [id],
    );
  }
  await touch(m, id);
}

/**
 * @param m manager
 * @param id conversation
 * @param userId member
 * @param role new role
 */
export async function setRole(
  m: EntityManager,
  id: string,
  userId: string,
  role: ConversationRole,
): Promise<boolean> {
  const rows = (await q(
    m,
    `UPDATE chat.conversation_members SET role = $3 WHERE conversation_id = $1 AND user_id = $2 AND role <> 'owner' RETURNING 1`,
    [id, userId, role],
  )) as unknown[];
  if (rows.length > 0) await touch(m, id);
  return rows.length > 0;
}

async function touch(m: EntityManager, id: string): Promise<void> {
  await q(m, `UPDATE chat.conversations SET updated_at = now() WHERE id = $1`, [id]);
}

/**
 * Users who share at least one conversation with `userId` (the only ones who may see their
 * presence and identity changes).
 * @param m manager
 * @param userId user
 * @returns distinct user ids, without `userId`
 */
export async function contactsOf(m: EntityManager, userId: string): Promise<string[]> {
  const rows = (await q(
    m,
    `SELECT DISTINCT o.user_id FROM chat.conversation_members me
       JOIN chat.conversation_members o ON o.conversation_id = me.conversation_id AND o.user_id <> me.user_id
      WHERE me.user_id = $1`,
    [userId],
  )) as { user_id: string }[];
  return rows.map((r) => r.user_id);
}

/**
 * @param m manager
 * @param userId one user
 * @param others candidates
 * @returns the subset of `others` sharing a conversation with `userId`
 */
export async function sharedWith(
  m: EntityManager,
  userId: string,
  others: string[],
): Promise<string[]> {
  const rows = (await q(
    m,
    `SELECT DISTINCT o.user_id FROM chat.conversation_members me
       JOIN chat.conversation_members o ON o.conversation_id = me.conversation_id
      WHERE me.user_id = $1 AND o.user_id = ANY($2::uuid[]) AND o.user_id <> $1`,
    [userId, others],
  )) as { user_id: string }[];
  return rows.map((r) => r.user_id);
}

/**
 * @param m manager
 * @param id conversation
 * @returns member user ids
 */
export async function memberIds(m: EntityManager, id: string): Promise<string[]> {
  const rows = (await q(
    m,
    `SELECT user_id FROM chat.conversation_members WHERE conversation_id = $1`,
    [id],
  )) as { user_id: string }[];
  return rows.map((r) => r.user_id);
}

/**
 * @param m manager
 * @param userIds candidates
 * @returns those deleted from the system (user.deleted.v1 was received)
 */
export async function deletedAmong(m: EntityManager, userIds: string[]): Promise<string[]> {
  const rows = (await q(
    m,
    `SELECT user_id FROM chat.deleted_users WHERE user_id = ANY($1::uuid[])`,
    [userIds],
  )) as { user_id: string }[];
  return rows.map((r) => r.user_id);
}
