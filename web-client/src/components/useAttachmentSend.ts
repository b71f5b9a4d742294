import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import type { SendExtras } from '../state/index.js';
import { useApp } from '../state/store.js';
import { formatFileSize, percentOf } from './TransferBar.js';

/** An upload under way. */
export interface UploadState {
  name: string;
  percent: number | null;
  cancel: () => void;
}

/**
 * Sends a file (picked, pasted, dropped or recorded) with upload progress and Cancel, and says
 * why one was refused (over the server's limit: before anything was encrypted or sent).
 * @param conversationId the conversation
 * @param extra reply and mentions of the message
 * @param onSent called once a file went out (e.g. to drop the reply quote)
 * @returns `send`, the upload under way, and the last error
 */
export function useAttachmentSend(
  conversationId: string,
  extra: SendExtras | undefined,
  onSent: () => void,
) {
  const { actions } = useApp();
  const { t } = useTranslation('att');
  const [upload, setUpload] = useState<UploadState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = useRef<AbortController | null>(null);
  // Leaving the conversation cancels its upload.
  useEffect(() => () => current.current?.abort(), [conversationId]);

  const send = async (file: File, voiceDurationMs?: number) => {
    if (current.current) return;
    const abort = new AbortController();
    current.current = abort;
    setError(null);
    setUpload({ name: file.name, percent: 0, cancel: () => abort.abort() });
    try {
      await actions.sendFile(conversationId, file, extra, {
        signal: abort.signal,
        onProgress: (p) => setUpload((u) => u && { ...u, percent: percentOf(p) }),
        ...(voiceDurationMs !== undefined ? { voiceDurationMs } : {}),
      });
      onSent();
    } catch (err) {
      const e = err as { code?: string; details?: { size?: number; maxBytes?: number } };
      if (e.code === 'cancelled') setError(t('cancelled'));
      else if (e.code === 'attachment_too_large' && e.details?.size && e.details.maxBytes)
        setError(
          t('tooLarge', {
            size: formatFileSize(e.details.size),
            max: formatFileSize(e.details.maxBytes),
          }),
        );
      else setError(describeError(err));
    } finally {
      current.current = null;
      setUpload(null);
    }
  };
  return { send, upload, error, setError };
}
