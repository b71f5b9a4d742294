import { Router } from 'express';
import { PutBackupBody } from '@cipherchat/contracts';
import { AppError, authUserId, validate } from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import { loadBackup, storeBackup } from '../domain/backup.js';

/**
 * The wrapped key backup of the caller (and only the caller: the user id comes from the
 * token, there is no way to name another user). Versioned with optimistic concurrency.
 * @param deps use-case dependencies
 * @returns the router
 */
export function backupRouter(deps: ChatDeps): Router {
  const r = Router();
  const maxChars = Math.ceil(deps.config.BACKUP_MAX_BYTES / 3) * 4;

  r.put('/backup', async (req, res) => {
    const userId = authUserId(req);
    // refuse an oversized body before decoding it
    const raw = req.body as { blob?: unknown } | undefined;
    if (typeof raw?.blob === 'string' && raw.blob.length > maxChars) {
      throw new AppError(413, 'payload_too_large', `backup larger than ${deps.config.BACKUP_MAX_BYTES} bytes`);
    }
    const body = validate(PutBackupBody, req.body);
    res.json(await storeBackup(deps, userId, body.version, Buffer.from(body.blob, 'base64')));
  });

  r.get('/backup', async (req, res) => {
    const b = await loadBackup(deps, authUserId(req));
    res.json({ version: b.version, blob: b.blob.toString('base64') });
  });

  return r;
}
