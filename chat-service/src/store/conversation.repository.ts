import type { EntityManager } from 'typeorm';
import { q } from './sql.js';
import type { ConversationKind, ConversationRole } from '@cipherchat/contracts';
import type { ConversationRow, ConversationStore, StoredMembershipState } from '../domain/ports.js';
import {
  addMembers,
  contactsOf,
  deletedAmong,
  memberIds,
  removeMember,
  roleOf,
  setRole,
  sharedWith,
} from './membership.repository.js';

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

/** The conversation port of the use cases (memberships from membership.repository.ts). */
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
