import { Router } from 'express';
import { PutBackupBody } from '@cipherchat/contracts';
import { AppError, authUserId, validate } from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import { loadBackup, storeBackup } from '../domain/backup.js';
import { requireAnyOwnDevice } from './device-proof.js';

/**
 * The wrapped key backup of the caller (and only the caller: the user id comes from the
 * token, there is no way to name another user). Versioned with optimistic concurrency.
 * Replacing it needs proof of one of the caller's devices (`X-Device-Id` + `X-Device-Secret`):
 * a stolen token alone must not swap the backup a new device will restore. Reading it needs
 * only the token (a new device reads it before it has a device).
 * @param deps use-case dependencies
 * @returns the router
 */
export function backupRouter(deps: ChatDeps): Router {
  const r = Router();
  const maxChars = Math.ceil(deps.config.BACKUP_MAX_BYTES / 3) * 4;

  r.put('/backup', async (req, res) => {
    const userId = authUserId(req);
    await requireAnyOwnDevice(deps, req, userId);
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
