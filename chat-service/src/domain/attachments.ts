import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError, NotFoundError } from '@cipherchat/service-kit/errors';
import type { ChatDeps } from './deps.js';

// Encrypted attachments: the client encrypts with a fresh key and uploads opaque bytes; the key
// and digest travel inside the E2EE message. Only the uploader and members of the conversation
// it was uploaded to may fetch it; everyone else gets 404.

/**
 * Refuses a non-member, and an upload that would exceed the caller's attachment quota by its
 * declared length, before the upload's body is read.
 * @param deps conversation and attachment stores, config
 * @param me the caller
 * @param conversationId where the attachment is meant for
 * @param declaredBytes the request's Content-Length, when given
 * @throws {NotFoundError} `conversation` when the caller is not a member (or it is missing)
 * @throws {AppError} 413 `quota_exceeded` when it would not fit the quota
 */
export async function requireUploadAllowed(deps: ChatDeps, me: string, conversationId: string, declaredBytes?: number): Promise<void> {
  if (!(await deps.conversations.roleOf(deps.db, conversationId, me))) throw new NotFoundError('conversation');
  if (declaredBytes !== undefined) await requireQuota(deps, me, declaredBytes);
}

async function requireQuota(deps: ChatDeps, me: string, bytes: number): Promise<void> {
  const used = await deps.attachments.attachmentBytesOf(deps.db, me);
  if (used + bytes > deps.config.ATTACHMENT_QUOTA_BYTES) throw quotaExceeded(deps);
}

function quotaExceeded(deps: ChatDeps): AppError {
  const mib = Math.floor(deps.config.ATTACHMENT_QUOTA_BYTES / (1024 * 1024));
  return new AppError(413, 'quota_exceeded', `your attachments would exceed your storage quota (${mib} MiB); older ones free space as they expire`);
}

/**
 * Stores an uploaded ciphertext and its metadata (expiring after ATTACHMENT_RETENTION_DAYS),
 * within the uploader's quota (the sum of their live attachments): checked before the blob is
 * written and again, serialized per uploader, when its row is inserted (the blob is removed
 * if that refuses).
 * @param deps config, conversation and attachment stores, blobs
 * @param me the uploader
 * @param conversationId the conversation it is for
 * @param data the ciphertext
 * @returns id, size and expiry
 * @throws {AppError} 400 `validation_error` when empty; 413 `quota_exceeded`; {@link NotFoundError} when no longer a member
 */
export async function uploadAttachment(deps: ChatDeps, me: string, conversationId: string, data: Buffer): Promise<{ id: string; size: number; expiresAt: Date }> {
  if (data.length === 0) throw new AppError(400, 'validation_error', 'empty attachment');
  // checked again: the member may have been removed while the upload was running
  await requireUploadAllowed(deps, me, conversationId, data.length);
  const id = randomUUID();
  const storageKey = await deps.blobs.put(id, data);
  const expiresAt = new Date(Date.now() + deps.config.ATTACHMENT_RETENTION_DAYS * 86_400_000);
  let inserted = false;
  try {
    const row = { id, ownerUserId: me, conversationId, size: data.length, storage: deps.blobs.kind, storageKey, expiresAt };
    inserted = await deps.transact((tx) => deps.attachments.insertAttachmentWithinQuota(tx, row, deps.config.ATTACHMENT_QUOTA_BYTES));
  } finally {
    if (!inserted) await deps.blobs.remove(storageKey).catch(() => undefined);
  }
  if (!inserted) throw quotaExceeded(deps);
  return { id, size: data.length, expiresAt };
}

/**
 * Deletes an attachment its uploader no longer wants served (deleted for everyone, or its
 * disappearing timer ran out): its row and its blob, together.
 * @param deps attachment store, blobs, transactions
 * @param me the caller
 * @param id the attachment
 * @throws {NotFoundError} `attachment` when there is none the caller uploaded
 */
export async function deleteAttachment(deps: ChatDeps, me: string, id: string): Promise<void> {
  // The blob goes inside the row's transaction: when its removal fails the row stays (and keeps
  // counting against the quota), so a retry finds it again and no file is left without a row.
  await deps.transact(async (tx) => {
    const row = await deps.attachments.deleteOwnAttachment(tx, id, me);
    if (!row) throw new NotFoundError('attachment');
    await deps.blobs.remove(row.storageKey);
  });
}

/**
 * Opens an attachment the caller may see.
 * @param deps attachment store, blobs
 * @param me the caller
 * @param id the attachment
 * @returns its size and a stream of its ciphertext
 * @throws {NotFoundError} `attachment` when missing, not visible, or its file is gone
 */
export async function openAttachment(deps: ChatDeps, me: string, id: string): Promise<{ size: number; stream: Readable }> {
  const a = await deps.attachments.findVisibleAttachment(deps.db, id, me);
  if (!a) throw new NotFoundError('attachment');
  const stream = await deps.blobs.open(a.storageKey).catch(() => {
    throw new NotFoundError('attachment');
  });
  return { size: a.size, stream };
}
