import type { EntityManager } from 'typeorm';
import type { AttachmentRow, AttachmentStore } from '../domain/ports.js';
import { q } from './sql.js';

export type { AttachmentRow };

/**
 * @param m manager
 * @param a the attachment
 */
export async function insertAttachment(m: EntityManager, a: AttachmentRow): Promise<void> {
  await q(m, 
    `INSERT INTO chat.attachments (id, owner_user, conversation_id, size, storage, storage_key, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [a.id, a.ownerUserId, a.conversationId, a.size, a.storage, a.storageKey, a.expiresAt],
  );
}

/**
 * Inserts an attachment only while its owner's live attachments (unexpired), with it, stay
 * within the quota. Serialized per owner (a transaction-scoped advisory lock), so concurrent
 * uploads cannot both slip under it.
 * @param m manager inside a transaction
 * @param a the attachment
 * @param quotaBytes most bytes of live attachments per owner
 * @returns false (nothing inserted) when it would exceed the quota
 */
export async function insertAttachmentWithinQuota(m: EntityManager, a: AttachmentRow, quotaBytes: number): Promise<boolean> {
  await q(m, `SELECT pg_advisory_xact_lock(hashtextextended('chat.attachments:' || $1::text, 0))`, [a.ownerUserId]);
  const rows = await q(m, 
    `INSERT INTO chat.attachments (id, owner_user, conversation_id, size, storage, storage_key, expires_at)
     SELECT $1::uuid, $2::uuid, $3::uuid, $4::bigint, $5::text, $6::text, $7::timestamptz
      WHERE (SELECT coalesce(sum(size), 0) FROM chat.attachments WHERE owner_user = $2 AND expires_at > now()) + $4 <= $8
     RETURNING id`,
    [a.id, a.ownerUserId, a.conversationId, a.size, a.storage, a.storageKey, a.expiresAt, quotaBytes],
  );
  return (rows as unknown[]).length > 0;
}

/**
 * @param m manager
 * @param userId owner
 * @returns bytes of the user's live (unexpired) attachments
 */
export async function attachmentBytesOf(m: EntityManager, userId: string): Promise<number> {
  const [r] = (await q(m, `SELECT coalesce(sum(size), 0)::bigint AS n FROM chat.attachments WHERE owner_user = $1 AND expires_at > now()`, [userId])) as { n: string }[];
  return Number(r?.n ?? 0);
}

/**
 * An attachment, only if `userId` uploaded it or is a member of its conversation, and it has
 * not expired (anyone else gets the same answer as for a missing id).
 * @param m manager
 * @param id attachment id
 * @param userId caller
 * @returns the row or null
 */
export async function findVisibleAttachment(m: EntityManager, id: string, userId: string): Promise<AttachmentRow | null> {
  const [r] = (await q(m, 
    `SELECT a.* FROM chat.attachments a
      WHERE a.id = $1 AND a.expires_at > now()
        AND (a.owner_user = $2 OR EXISTS (SELECT 1 FROM chat.conversation_members m WHERE m.conversation_id = a.conversation_id AND m.user_id = $2))`,
    [id, userId],
  )) as RawAttachment[];
  return r ? toRow(r) : null;
}

type RawAttachment = { id: string; owner_user: string; conversation_id: string; size: string; storage: 'local' | 'cloudinary'; storage_key: string; expires_at: Date };

function toRow(r: RawAttachment): AttachmentRow {
  return {
    id: r.id,
    ownerUserId: r.owner_user,
    conversationId: r.conversation_id,
    size: Number(r.size),
    storage: r.storage,
    storageKey: r.storage_key,
    expiresAt: r.expires_at,
  };
}

/**
 * Deletes expired attachment rows (or those of one owner) and returns them so their blobs can be removed.
 * @param m manager
 * @param where `{expiredBefore}` or `{ownerUserId}`
 * @returns the deleted rows
 */
export async function deleteAttachments(m: EntityManager, where: { expiredBefore: Date } | { ownerUserId: string }): Promise<AttachmentRow[]> {
  const rows = (
    'expiredBefore' in where
      ? await q(m, `DELETE FROM chat.attachments WHERE expires_at < $1 RETURNING *`, [where.expiredBefore])
      : await q(m, `DELETE FROM chat.attachments WHERE owner_user = $1 RETURNING *`, [where.ownerUserId])
  ) as RawAttachment[];
  return rows.map(toRow);
}

/**
 * Deletes one attachment row, only if `ownerUserId` uploaded it.
 * @param m manager
 * @param id attachment id
 * @param ownerUserId the caller
 * @returns the deleted row, or null when there was none of theirs
 */
export async function deleteOwnAttachment(m: EntityManager, id: string, ownerUserId: string): Promise<AttachmentRow | null> {
  const [row] = (await q(m, `DELETE FROM chat.attachments WHERE id = $1 AND owner_user = $2 RETURNING *`, [id, ownerUserId])) as RawAttachment[];
  return row ? toRow(row) : null;
}

/** The attachment port of the use cases. */
export const attachmentStore: AttachmentStore = {
  insertAttachment,
  insertAttachmentWithinQuota,
  attachmentBytesOf,
  findVisibleAttachment,
  deleteAttachments,
  deleteOwnAttachment,
};
