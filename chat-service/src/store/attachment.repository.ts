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

/** The attachment port of the use cases. */
export const attachmentStore: AttachmentStore = { insertAttachment, findVisibleAttachment, deleteAttachments };
