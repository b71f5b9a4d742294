import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, authUserId, validate } from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import { deleteAttachment, openAttachment, requireUploadAllowed, uploadAttachment } from '../domain/attachments.js';

const UploadQuery = z.strictObject({ conversationId: z.uuid() });
const IdParams = z.strictObject({ id: z.uuid() });

/**
 * Encrypted attachments: the client encrypts with a fresh key and uploads opaque bytes; the key
 * and digest travel inside the E2EE message. Only the uploader and members of the conversation
 * it was uploaded to may fetch it; everyone else gets 404.
 * @param deps use-case dependencies
 * @returns the router
 */
export function attachmentsRouter(deps: ChatDeps): Router {
  const r = Router();
  const raw = express.raw({ type: 'application/octet-stream', limit: deps.config.ATTACHMENT_MAX_BYTES });

  // Membership and quota (by the declared length) before the body: a non-member or an upload
  // over quota is refused before up to ATTACHMENT_MAX_BYTES are read and buffered (Node
  // discards whatever of the body still arrives).
  const requireMember: RequestHandler = async (req, _res, next) => {
    const { conversationId } = validate(UploadQuery, req.query, 'query');
    const declared = Number(req.get('content-length'));
    await requireUploadAllowed(deps, authUserId(req), conversationId, Number.isSafeInteger(declared) && declared > 0 ? declared : undefined);
    next();
  };

  r.post('/attachments', requireMember, raw, async (req, res) => {
    const me = authUserId(req);
    const { conversationId } = validate(UploadQuery, req.query, 'query');
    if (!Buffer.isBuffer(req.body)) throw new AppError(415, 'validation_error', 'send the ciphertext as application/octet-stream');
    const a = await uploadAttachment(deps, me, conversationId, req.body);
    res.status(201).json({ id: a.id, size: a.size, expiresAt: a.expiresAt.toISOString() });
  });

  r.get('/attachments/:id', async (req, res) => {
    const me = authUserId(req);
    const { id } = validate(IdParams, req.params, 'params');
    const { size, stream } = await openAttachment(deps, me, id);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(size));
    res.setHeader('Cache-Control', 'private, no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Disposition', 'attachment');
    stream.on('error', (err) => {
      deps.log.warn({ err: err.message, attachmentId: id }, 'attachment stream failed');
      res.destroy(err);
    });
    stream.pipe(res);
  });

  // Only its uploader may delete it (delete for everyone, disappearing messages); others get 404.
  r.delete('/attachments/:id', async (req, res) => {
    const { id } = validate(IdParams, req.params, 'params');
    await deleteAttachment(deps, authUserId(req), id);
    res.status(204).end();
  });

  return r;
}
