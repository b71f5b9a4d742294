import type { EntityManager } from 'typeorm';
import type { BackupStore } from '../domain/ports.js';
import { q } from './sql.js';

/**
 * Stores a backup only if `version` is exactly the stored version + 1 (1 when none is
 * stored): one conditional statement, so two concurrent writers cannot both win.
 * @param m manager
 * @param userId owner
 * @param version the new version
 * @param blob the wrapped ciphertext
 * @returns `{ok: true}` or `{ok: false, currentVersion}`
 */
export async function putBackup(
  m: EntityManager,
  userId: string,
  version: number,
  blob: Buffer,
): Promise<{ ok: true } | { ok: false; currentVersion: number }> {
  const rows = (await q(m, 
    `INSERT INTO chat.backups AS b (user_id, version, blob) SELECT $1::uuid, $2::int, $3::bytea WHERE $2::int = 1
       ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version, blob = EXCLUDED.blob, updated_at = now()
       WHERE b.version = EXCLUDED.version - 1
     RETURNING version`,
    [userId, version, blob],
  )) as unknown[];
  if (rows.length === 0 && version !== 1) {
    // `WHERE $2 = 1` filtered the insert row before ON CONFLICT ran: try the update path.
    const updated = (await q(m, 
      `UPDATE chat.backups SET version = $2, blob = $3, updated_at = now() WHERE user_id = $1 AND version = $2::int - 1 RETURNING version`,
      [userId, version, blob],
    )) as unknown[];
    if (updated.length > 0) return { ok: true };
  } else if (rows.length > 0) {
    return { ok: true };
  }
  const [cur] = (await q(m, `SELECT version FROM chat.backups WHERE user_id = $1`, [userId])) as { version: number }[];
  return { ok: false, currentVersion: cur?.version ?? 0 };
}

/**
 * @param m manager
 * @param userId owner
 * @returns the caller's backup or null
 */
export async function getBackup(m: EntityManager, userId: string): Promise<{ version: number; blob: Buffer } | null> {
  const [row] = (await q(m, `SELECT version, blob FROM chat.backups WHERE user_id = $1`, [userId])) as { version: number; blob: Buffer }[];
  return row ?? null;
}

/** The backup port of the use cases. */
export const backupStore: BackupStore = { putBackup, getBackup };
