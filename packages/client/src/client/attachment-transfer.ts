import { decryptAttachment, encryptAttachment } from '../attachments/attachment-crypto.js';
import type { AttachmentPointer } from '../messages/message.schema.js';
import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';

/**
 * Encrypts a file with a fresh key and uploads the ciphertext.
 * @param api HTTP client
 * @param conversationId the conversation it is for
 * @param data file bytes
 * @param meta content type and file name
 * @returns the pointer (server id, key, digest) to send inside an E2EE message
 */
export async function uploadAttachment(
  api: ApiClient,
  conversationId: string,
  data: Uint8Array,
  meta: { contentType: string; fileName?: string | undefined },
): Promise<AttachmentPointer> {
  const enc = await encryptAttachment(data);
  const uploaded = await api.chat.uploadAttachment(conversationId, enc.ciphertext);
  return {
    id: uploaded.id,
    key: enc.key,
    digest: enc.digest,
    size: enc.size,
    contentType: meta.contentType,
    ...(meta.fileName ? { fileName: meta.fileName } : {}),
  };
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

/**
 * Downloads an attachment, checks its digest, and decrypts it.
 * @param api HTTP client
 * @param pointer from the message
 * @returns the plaintext bytes
 * @throws {AttachmentIntegrityError} digest mismatch or bad ciphertext
 */
export async function downloadAttachment(api: ApiClient, pointer: AttachmentPointer): Promise<Uint8Array> {
  const bytes = await api.chat.downloadAttachment(pointer.id);
  return decryptAttachment(bytes, pointer.key, pointer.digest);
}
