import type { EntityManager } from 'typeorm';
import { q } from './sql.js';
import type { ConversationKind, ConversationRole } from '@cipherchat/contracts';
import type { ConversationRow, ConversationStore, StoredMembershipState } from '../domain/ports.js';

export type { ConversationRow };

const SELECT_CONVERSATION = `
  SELECT c.id, c.kind, c.title, c.created_at, c.updated_at,
         (SELECT json_agg(json_build_object('userId', m.user_id, 'role', m.role, 'joinedAt', m.joined_at, 'state', m.state) ORDER BY m.joined_at, m.user_id)
            FROM chat.conversation_members m WHERE m.conversation_id = c.id) AS members
    FROM chat.conversations c`;

type RawConversation = {
  id: string;
  kind: ConversationKind;
  title: string | null;
  created_at: Date;
  updated_at: Date;
  members:
    { userId: string; role: ConversationRole; joinedAt: string; state: StoredMembershipState }[] | null;
};

function toRow(r: RawConversation): ConversationRow {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    members: (r.members ?? []).map((m) => ({ ...m, joinedAt: new Date(m.joinedAt).toISOString() })),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * Creates a direct conversation unless the pair already has one (unique `direct_key`).
 * @param m transaction manager
 * @param id new id
 * @param key the pair key
 * @param creator caller
 * @param other the other member
 * @returns the conversation id and whether it was created now
 */
export async function createDirect(
  m: EntityManager,
  id: string,
  key: string,
  creator: string,
  other: string,
): Promise<{ id: string; created: boolean }> {
  const inserted = (await q(
    m,
    `INSERT INTO chat.conversations (id, kind, direct_key, created_by) VALUES ($1, 'direct', $2, $3)
     ON CONFLICT (direct_key) DO NOTHING RETURNING id`,
    [id, key, creator],
  )) as { id: string }[];
  if (inserted.length > 0) {
    await q(
      m,
      `INSERT INTO chat.conversation_members (conversation_id, user_id, role) SELECT $1, u, 'member' FROM unnest($2::uuid[]) AS u`,
      [id, [creator, other]],
    );
    return { id, created: true };
  }
  const [existing] = (await q(m, `SELECT id FROM chat.conversations WHERE direct_key = $1`, [
    key,
  ])) as { id: string }[];
  if (!existing) throw new Error('direct conversation vanished during creation');
  return { id: existing.id, created: false };
}

/**
 * Creates the user's self conversation (the user its only member, as owner) unless it exists:
 * one per user, held by a unique index on `created_by` for `kind = 'self'`.
 * @param m transaction manager
 * @param id new id
 * @param userId the user
 * @returns the conversation id and whether it was created now
 */
export async function createSelf(
  m: EntityManager,
  id: string,
  userId: string,
): Promise<{ id: string; created: boolean }> {
  const inserted = (await q(
    m,
    `INSERT INTO chat.conversations (id, kind, created_by) VALUES ($1, 'self', $2)
     ON CONFLICT (created_by) WHERE kind = 'self' DO NOTHING RETURNING id`,
    [id, userId],
  )) as { id: string }[];
  if (inserted.length > 0) {
    await q(
      m,
      `INSERT INTO chat.conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'owner')`,
      [id, userId],
    );
    return { id, created: true };
  }
  const [existing] = (await q(
    m,
    `SELECT id FROM chat.conversations WHERE kind = 'self' AND created_by = $1`,
    [userId],
  )) as { id: string }[];
  if (!existing) throw new Error('self conversation vanished during creation');
  return { id: existing.id, created: false };
}

/**
 * Creates a group with the creator as owner. No title: titles travel end to end.
 * @param m transaction manager
 * @param id new id
 * @param creator caller (owner)
 * @param others other members
 */
export async function createGroup(
  m: EntityManager,
  id: string,
  creator: string,
  others: string[],
): Promise<void> {
  await q(m, `INSERT INTO chat.conversations (id, kind, created_by) VALUES ($1, 'group', $2)`, [
    id,
    creator,
  ]);
  await q(
    m,
    `INSERT INTO chat.conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'owner')`,
    [id, creator],
  );
  if (others.length > 0) {
    await q(
      m,
      `INSERT INTO chat.conversation_members (conversation_id, user_id, role) SELECT $1, u, 'member' FROM unnest($2::uuid[]) AS u ON CONFLICT DO NOTHING`,
      [id, others],
    );
  }
}

/**
 * A conversation, only if `userId` is a member who did not decline it (else it looks missing).
 * @param m manager
 * @param id conversation id
 * @param userId caller
 * @returns the conversation or null
 */
export async function findForMember(
  m: EntityManager,
  id: string,
  userId: string,
): Promise<ConversationRow | null> {
  const rows = (await q(
    m,
    `${SELECT_CONVERSATION} WHERE c.id = $1 AND EXISTS (SELECT 1 FROM chat.conversation_members x WHERE x.conversation_id = c.id AND x.user_id = $2 AND x.state <> 'declined')`,
    [id, userId],
  )) as RawConversation[];
  return rows[0] ? toRow(rows[0]) : null;
}

/**
 * One page of the caller's conversations (not those they declined), most recently updated first (keyset pagination on
 * millisecond-truncated `updated_at`, the precision a cursor carries, then id).
 * @param m manager
 * @param userId caller
 * @param limit page size
 * @param after the last (updatedAt, id) of the previous page
 * @returns the page
 */
export async function listForMember(
  m: EntityManager,
  userId: string,
  limit = 1000,
  after?: { updatedAt: Date; id: string },
): Promise<ConversationRow[]> {
  const rows = (await q(
    m,
    `${SELECT_CONVERSATION} JOIN chat.conversation_members me ON me.conversation_id = c.id AND me.user_id = $1 AND me.state <> 'declined'
      WHERE ($3::timestamptz IS NULL OR (date_trunc('milliseconds', c.updated_at), c.id) < ($3::timestamptz, $4::uuid))
      ORDER BY date_trunc('milliseconds', c.updated_at) DESC, c.id DESC LIMIT $2`,
    [userId, limit, after?.updatedAt ?? null, after?.id ?? null],
  )) as RawConversation[];
  return rows.map(toRow);
}

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
 * @param m manager
 * @param id conversation
 * @returns kind and member count, or null
 */
export async function conversationInfo(
  m: EntityManager,
  id: string,
): Promise<{ kind: ConversationKind; members: number } | null> {
  const [row] = (await q(
    m,
    `SELECT kind, (SELECT count(*)::int FROM chat.conversation_members WHERE conversation_id = c.id) AS members FROM chat.conversations c WHERE id = $1 FOR UPDATE`,
    [id],
  )) as { kind: ConversationKind; members: number }[];
  return row ?? null;
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

/**
 * Clears a group's legacy title (the only title change left: titles travel end to end).
 * @param m manager
 * @param id group
 */
export async function clearTitle(m: EntityManager, id: string): Promise<void> {
  await q(
    m,
    `UPDATE chat.conversations SET title = NULL, updated_at = now() WHERE id = $1 AND kind = 'group'`,
    [id],
  );
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

/** The conversation port of the use cases. */
export const conversationStore: ConversationStore = {
  createDirect,
  createGroup,
  createSelf,
  findForMember,
  listForMember,
  roleOf,
  conversationInfo,
  addMembers,
  removeMember,
  setRole,
  clearTitle,
  contactsOf,
  sharedWith,
  memberIds,
  deletedAmong,
};
