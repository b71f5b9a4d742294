import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import type { MessageView, TransferProgress } from '../state/index.js';
import { useApp } from '../state/store.js';
import { PaperclipIcon } from './PaperclipIcon.js';
import { percentOf, TransferBar } from './TransferBar.js';
import { formatDuration } from './VoiceRecorder.js';

/** Formats a byte count for people. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * An attachment: images and voice notes are fetched, verified and decrypted right away and
 * shown inline (as `blob:` URLs, allowed by the CSP's img-src and media-src); an image shows the
 * sender's thumbnail at once while the full file downloads (with progress and Cancel). Other
 * files download on demand. The SDK caches decrypted files (sealed), so an image shown again is
 * not downloaded again. In a message request nothing is fetched by itself (a fetch would tell
 * the sender I opened it): a "Download" button asks first.
 * @param props.message the attachment message
 */
export function AttachmentPreview({ message }: { message: MessageView }) {
  const { api, state } = useApp();
  const { t } = useTranslation('att');
  const { t: tc } = useTranslation('conversation');
  const inRequest = state.conversations[message.conversationId]?.myState === 'request';
  const [asked, setAsked] = useState(false);
  const att = message.attachment;
  const isImage = !!att && /^image\/(png|jpeg|gif|webp|avif)$/.test(att.contentType);
  const isVoice = !!att && (att.voice !== undefined || /^audio\//.test(att.contentType));
  const inline = isImage || isVoice;
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ percent: number | null; cancel: () => void } | null>(
    null,
  );
  const [attempt, setAttempt] = useState(0);
  const latest = useRef(message);
  latest.current = message;
  // Status updates must not re-download: only the id and "uploaded yet?" matter.
  const ready =
    !(message.direction === 'out' && message.status === 'sending') && (!inRequest || asked);

  useEffect(() => {
    if (!inline || !ready) return;
    let revoked = false;
    let objectUrl: string | null = null;
    const abort = new AbortController();
    const onProgress = (p: TransferProgress) =>
      !revoked && setProgress({ percent: percentOf(p), cancel: () => abort.abort() });
    setError(null);
    api.downloadAttachment(latest.current, { onProgress, signal: abort.signal }).then(
      (blob) => {
        if (revoked) return;
        setProgress(null);
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      (e: unknown) => {
        if (revoked) return;
        setProgress(null);
        setError(describeError(e));
      },
    );
    return () => {
      revoked = true;
      abort.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, message.id, inline, ready, attempt]);

  if (!att) return null;
  const download = async () => {
    setAsked(true);
    // A request's image, asked for: shown inline like any other (the effect fetches it).
    if (inline && inRequest && !asked) return;
    if (inline && !url) return setAttempt((n) => n + 1);
    const abort = new AbortController();
    try {
      const blob = await api.downloadAttachment(message, {
        signal: abort.signal,
        onProgress: (p) => setProgress({ percent: percentOf(p), cancel: () => abort.abort() }),
      });
      const a = document.createElement('a');
      const href = URL.createObjectURL(blob);
      a.href = href;
      a.download = att.fileName ?? 'attachment';
      a.click();
      setTimeout(() => URL.revokeObjectURL(href), 10_000);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setProgress(null);
    }
  };
  const name = att.fileName ?? t('image');
  return (
    <div className="attachment">
      {isImage && url && (
        <img src={url} alt={name} className="attachment-image" />
      )}
      {isImage && !url && att.thumbnail && (!inRequest || asked) && (
        <img
          src={att.thumbnail.url}
          width={att.thumbnail.width}
          height={att.thumbnail.height}
          alt={t('thumbnailAlt', { name })}
          className="attachment-thumbnail"
          data-testid="attachment-thumbnail"
        />
      )}
      {isVoice && url && (
        <audio
          controls
          src={url}
          className="voice-note"
          aria-label={t('voiceNote', { duration: formatDuration(att.voice?.durationMs ?? 0) })}
        />
      )}
      {isImage && ready && !url && !error && !progress && (
        <span className="muted small">{tc('file.decryptingImage')}</span>
      )}
      {isVoice && ready && !url && !error && !progress && (
        <span className="muted small">{t('loadingVoice')}</span>
      )}
      {progress && (
        <TransferBar
          label={t('downloading')}
          percent={progress.percent}
          onCancel={progress.cancel}
        />
      )}
      {inRequest && !asked && (
        <span className="muted small">{tc('file.notInRequest')}</span>
      )}
      {isVoice && att.voice && !(inRequest && !asked) ? (
        <span className="small muted">
          {t('voiceNote', { duration: formatDuration(att.voice.durationMs) })}
        </span>
      ) : (
        <button type="button" className="link small" onClick={download}>
          <PaperclipIcon />{' '}
          {tc(inRequest && !asked ? 'file.download' : 'file.label', {
            name: att.fileName ?? tc('attachment'),
            size: formatBytes(att.size),
          })}
        </button>
      )}
      {error && (
        <span className="error small" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
