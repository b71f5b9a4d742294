import { AppError, ConflictError, NotFoundError } from '@cipherchat/service-kit/errors';
import type { ChatDeps } from './deps.js';

/**
 * Stores the caller's wrapped key backup, versioned with optimistic concurrency.
 * @param deps config, backup store
 * @param userId the caller (from the token: there is no way to name another user)
 * @param version must be the stored version + 1 (1 for the first)
 * @param blob the ciphertext
 * @returns the version stored
 * @throws {AppError} 413 `payload_too_large`
 * @throws {ConflictError} `version_conflict` with `{currentVersion}`
 */
export async function storeBackup(deps: ChatDeps, userId: string, version: number, blob: Buffer): Promise<{ version: number }> {
  const max = deps.config.BACKUP_MAX_BYTES;
  if (blob.length > max) throw new AppError(413, 'payload_too_large', `backup larger than ${max} bytes`);
  const out = await deps.backups.putBackup(deps.db, userId, version, blob);
  if (!out.ok) throw new ConflictError(`version must be ${out.currentVersion + 1}`, 'version_conflict', { currentVersion: out.currentVersion });
  return { version };
}

/**
 * @param deps backup store
 * @param userId the caller
 * @returns the caller's backup
 * @throws {NotFoundError} when none is stored
 */
export async function loadBackup(deps: ChatDeps, userId: string): Promise<{ version: number; blob: Buffer }> {
  const b = await deps.backups.getBackup(deps.db, userId);
  if (!b) throw new NotFoundError('backup');
  return b;
}
