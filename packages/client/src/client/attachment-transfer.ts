import { decryptAttachment, encryptAttachment } from '../attachments/attachment-crypto.js';
import type { AttachmentPointer, AttachmentThumbnail } from '../messages/message.schema.js';
import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import type { TransferOptions } from '../transport/progress.js';
import type { SessionSlot } from './session.js';
import { mediaKey } from '../storage/media-cache.js';

/** Bytes an encrypted blob adds to the file: the 12-byte IV and the 16-byte GCM tag. */
export const ATTACHMENT_OVERHEAD = 28;
/** Default size cap of the decrypted-media cache (bytes). */
export const DEFAULT_MEDIA_CACHE_BYTES = 100 * 1024 * 1024;

/** What travels with a file besides its bytes. */
export interface AttachmentMeta {
  /** MIME type of the file. */
  contentType: string;
  /** Original file name. */
  fileName?: string | undefined;
  /** Caption (the message's text). */
  caption?: string | undefined;
  /** A small preview the sender made (images), sent inside the encrypted message. */
  thumbnail?: AttachmentThumbnail | undefined;
  /** A recorded voice note and its length. */
  voice?: { durationMs: number } | undefined;
}

/**
 * "12.5 MB", "25 MB", "800 KB": sizes in binary megabytes as people read them.
 * @param bytes a size
 * @returns the size for a message
 */
export function formatFileSize(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  if (mb >= 10) return `${Math.round(mb)} MB`;
  if (mb >= 1) return `${Math.round(mb * 10) / 10} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/**
 * A file over the server's attachment limit, refused before it was encrypted or uploaded.
 * `details` is `{size, maxBytes}` (plaintext bytes) for a UI's own wording.
 */
export class AttachmentTooLargeError extends ApiError {
  /**
   * @param size the file's size
   * @param maxBytes the largest file the server accepts
   */
  constructor(
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super(
      413,
      'attachment_too_large',
      `This file is ${formatFileSize(size)}; the server accepts files up to ${formatFileSize(maxBytes)}.`,
      { size, maxBytes },
    );
    this.name = 'AttachmentTooLargeError';
  }
}

/**
 * Sends and opens attachments: the server's size limit (asked once per session), encrypt and
 * upload with progress, download with progress, and the decrypted-media cache of the store.
 */
export class AttachmentTransfer {
  private limit: Promise<number> | undefined;

  /**
   * @param api HTTP client
   * @param session the signed-in session (its store holds the cache)
   * @param cacheBytes size cap of the media cache (0: no cache)
   */
  constructor(
    private readonly api: ApiClient,
    private readonly session: SessionSlot,
    private readonly cacheBytes: number,
  ) {}

  /**
   * The largest file the server accepts, in plaintext bytes (`GET /api/chat/config`, asked once).
   * @returns the limit
   */
  maxFileBytes(): Promise<number> {
    this.limit ??= this.api.chat.config().then(
      (c) => c.attachmentMaxBytes - ATTACHMENT_OVERHEAD,
      (err: unknown) => {
        this.limit = undefined;
        throw err;
      },
    );
    return this.limit;
  }

  /**
   * Checks the size against the server's limit, then encrypts the file with a fresh key and
   * uploads the ciphertext.
   * @param conversationId the conversation it is for
   * @param data file bytes
   * @param meta content type, file name, thumbnail, voice
   * @param options upload progress and cancel
   * @returns the pointer (server id, key, digest) to send inside an E2EE message
   * @throws {AttachmentTooLargeError} over the limit: nothing was encrypted or sent
   */
  async upload(
    conversationId: string,
    data: Uint8Array,
    meta: AttachmentMeta,
    options: TransferOptions = {},
  ): Promise<AttachmentPointer> {
    const max = await this.maxFileBytes();
    if (data.length > max) throw new AttachmentTooLargeError(data.length, max);
    const enc = await encryptAttachment(data);
    const uploaded = await this.api.chat.uploadAttachment(conversationId, enc.ciphertext, options);
    const pointer: AttachmentPointer = {
      id: uploaded.id,
      key: enc.key,
      digest: enc.digest,
      size: enc.size,
      contentType: meta.contentType,
      ...(meta.fileName ? { fileName: meta.fileName } : {}),
      ...(meta.thumbnail ? { thumbnail: meta.thumbnail } : {}),
      ...(meta.voice ? { voice: meta.voice } : {}),
    };
    await this.remember(mediaKey(pointer), data); // my own file opens without a download
    return pointer;
  }

  /**
   * The file of a pointer: from the local cache, else downloaded, checked against its digest,
   * decrypted and cached.
   * @param pointer from the message
   * @param options download progress and cancel
   * @returns the plaintext bytes
   * @throws {AttachmentIntegrityError} digest mismatch or bad ciphertext
   */
  async download(pointer: AttachmentPointer, options: TransferOptions = {}): Promise<Uint8Array> {
    const store = this.session.current?.store;
    const cached = this.cacheBytes > 0 ? await store?.getMedia(mediaKey(pointer)) : undefined;
    if (cached && cached.length === pointer.size) return cached;
    const bytes = await this.api.chat.downloadAttachment(pointer.id, options);
    const plain = await decryptAttachment(bytes, pointer.key, pointer.digest);
    await this.remember(mediaKey(pointer), plain);
    return plain;
  }

  private async remember(key: string, bytes: Uint8Array): Promise<void> {
    if (this.cacheBytes <= 0) return;
    await this.session.current?.store.putMedia(key, bytes, this.cacheBytes);
  }
}

/**
 * Removes an attachment I uploaded from the server (deleted for everyone, or its disappearing
 * timer ran out). Already gone (404) counts as done: another of my devices may have removed it.
 * @param api HTTP client
 * @param id the attachment's server id
 */
export async function deleteAttachmentBlob(api: ApiClient, id: string): Promise<void> {
  try {
    await api.chat.deleteAttachment(id);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
}
