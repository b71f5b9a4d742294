import { Router } from 'express';
import { PutBackupBody } from '@cipherchat/contracts';
import { AppError, ConflictError, NotFoundError, authUserId, validate } from '@cipherchat/service-kit';
import type { ChatContext } from '../context.js';
import { getBackup, putBackup } from '../store/backup.repository.js';

/**
 * The wrapped key backup of the caller (and only the caller: the user id comes from the
 * token, there is no way to name another user). Versioned with optimistic concurrency.
 * @param ctx shared service context
 * @returns the router
 */
export function backupRouter(ctx: ChatContext): Router {
  const r = Router();
  const maxChars = Math.ceil(ctx.config.BACKUP_MAX_BYTES / 3) * 4;

  r.put('/backup', async (req, res) => {
    const userId = authUserId(req);
    const raw = req.body as { blob?: unknown } | undefined;
    if (typeof raw?.blob === 'string' && raw.blob.length > maxChars) {
      throw new AppError(413, 'payload_too_large', `backup larger than ${ctx.config.BACKUP_MAX_BYTES} bytes`);
    }
    const body = validate(PutBackupBody, req.body);
    const blob = Buffer.from(body.blob, 'base64');
    if (blob.length > ctx.config.BACKUP_MAX_BYTES) throw new AppError(413, 'payload_too_large', `backup larger than ${ctx.config.BACKUP_MAX_BYTES} bytes`);
    const out = await putBackup(ctx.ds.manager, userId, body.version, blob);
    if (!out.ok) {
      throw new ConflictError(`version must be ${out.currentVersion + 1}`, 'version_conflict', { currentVersion: out.currentVersion });
    }
    res.json({ version: body.version });
  });

  r.get('/backup', async (req, res) => {
    const b = await getBackup(ctx.ds.manager, authUserId(req));
    if (!b) throw new NotFoundError('backup');
    res.json({ version: b.version, blob: b.blob.toString('base64') });
  });

  return r;
}
