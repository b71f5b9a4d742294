import { ApiError, AttachmentTooLargeError, type ChatClient } from '@cipherchat/client';
import { makeThumbnail } from '../platform/thumbnail.js';
import type { ChatApi, MessageView } from './chat-api.js';
import { toView } from './sdk-views.js';

/**
 * The SDK side of the attachment calls of the {@link ChatApi} (sdk-adapter.ts spreads it in):
 * the server's limit before anything is read, the thumbnail, upload and download with progress.
 * @param client the SDK client
 * @returns `sendAttachment`, `maxAttachmentBytes` and `downloadAttachment`
 */
export function sdkAttachments(
  client: ChatClient,
): Pick<ChatApi, 'sendAttachment' | 'maxAttachmentBytes' | 'downloadAttachment'> {
  const attachmentPointer = async (message: MessageView) => {
    const stored = await client.store.getMessage(message.id);
    if (!stored?.attachment)
      throw new ApiError(404, 'not_found', 'This attachment is not on this device.');
    return stored.attachment;
  };
  return {
    async sendAttachment(conversationId, file, extra, transfer = {}) {
      // The server's limit first: a file over it is refused before it is read or encrypted.
      const max = await client.maxAttachmentBytes();
      if (file.size > max) throw new AttachmentTooLargeError(file.size, max);
      // Only the upload needs the file: once uploaded, the queued message carries the pointer
      // and Retry resends it without the file. A failed upload throws and stores nothing.
      const thumbnail =
        transfer.voiceDurationMs === undefined ? await makeThumbnail(file) : undefined;
      const bytes = new Uint8Array(await file.arrayBuffer());
      const m = await client.sendAttachment(
        conversationId,
        bytes,
        {
          contentType: file.type || 'application/octet-stream',
          ...(file.name ? { fileName: file.name } : {}),
          ...(thumbnail ? { thumbnail } : {}),
          ...(transfer.voiceDurationMs !== undefined
            ? { voice: { durationMs: Math.round(transfer.voiceDurationMs) } }
            : {}),
        },
        {
          wait: false,
          ...extra,
          ...(transfer.onProgress ? { onProgress: transfer.onProgress } : {}),
          ...(transfer.signal ? { signal: transfer.signal } : {}),
        },
      );
      return toView(m);
    },
    maxAttachmentBytes: () => client.maxAttachmentBytes(),
    async downloadAttachment(message, transfer = {}) {
      const pointer = await attachmentPointer(message);
      const bytes = await client.downloadAttachment(pointer, {
        ...(transfer.onProgress ? { onProgress: transfer.onProgress } : {}),
        ...(transfer.signal ? { signal: transfer.signal } : {}),
      });
      return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: pointer.contentType });
    },
  };
}
