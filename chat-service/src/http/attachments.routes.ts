import { randomUUID } from 'node:crypto';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, NotFoundError, authUserId, validate } from '@cipherchat/service-kit';
import type { ChatContext } from '../context.js';
import { findVisibleAttachment, insertAttachment } from '../store/attachment.repository.js';
import { roleOf } from '../store/conversation.repository.js';

const UploadQuery = z.strictObject({ conversationId: z.uuid() });
const IdParams = z.strictObject({ id: z.uuid() });

/**
 * Encrypted attachments: the client encrypts with a fresh key and uploads opaque bytes; the key
 * and digest travel inside the E2EE message. Only the uploader and members of the conversation
 * it was uploaded to may fetch it; everyone else gets 404.
 * @param ctx shared service context
 * @returns the router
 */
export function attachmentsRouter(ctx: ChatContext): Router {
  const r = Router();
  const raw = express.raw({ type: 'application/octet-stream', limit: ctx.config.ATTACHMENT_MAX_BYTES });

  // Membership before the body: a non-member is refused before up to ATTACHMENT_MAX_BYTES are
  // read and buffered (Node discards whatever of the body still arrives).
  const requireMember: RequestHandler = async (req, _res, next) => {
    const { conversationId } = validate(UploadQuery, req.query, 'query');
    if (!(await roleOf(ctx.ds.manager, conversationId, authUserId(req)))) throw new NotFoundError('conversation');
    next();
  };

  r.post('/attachments', requireMember, raw, async (req, res) => {
    const me = authUserId(req);
    const { conversationId } = validate(UploadQuery, req.query, 'query');
    if (!Buffer.isBuffer(req.body)) throw new AppError(415, 'validation_error', 'send the ciphertext as application/octet-stream');
    const data = req.body;
    if (data.length === 0) throw new AppError(400, 'validation_error', 'empty attachment');
    // checked again: the member may have been removed while the upload was running
    if (!(await roleOf(ctx.ds.manager, conversationId, me))) throw new NotFoundError('conversation');
    const id = randomUUID();
    const storageKey = await ctx.blobs.put(id, data);
    const expiresAt = new Date(Date.now() + ctx.config.ATTACHMENT_RETENTION_DAYS * 86_400_000);
    try {
      await insertAttachment(ctx.ds.manager, { id, ownerUserId: me, conversationId, size: data.length, storage: ctx.blobs.kind, storageKey, expiresAt });
    } catch (err) {
      await ctx.blobs.remove(storageKey).catch(() => undefined);
      throw err;
    }
    res.status(201).json({ id, size: data.length, expiresAt: expiresAt.toISOString() });
  });

  r.get('/attachments/:id', async (req, res) => {
    const me = authUserId(req);
    const { id } = validate(IdParams, req.params, 'params');
    const a = await findVisibleAttachment(ctx.ds.manager, id, me);
    if (!a) throw new NotFoundError('attachment');
    const stream = await ctx.blobs.open(a.storageKey).catch(() => {
      throw new NotFoundError('attachment');
    });
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(a.size));
    res.setHeader('Cache-Control', 'private, no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Disposition', 'attachment');
    stream.on('error', (err) => {
      ctx.logger.warn({ err: err.message, attachmentId: id }, 'attachment stream failed');
      res.destroy(err);
    });
    stream.pipe(res);
  });

  return r;
}
