import { useEffect, useRef, useState } from 'react';
import { describeError } from '../state/index.js';
import type { MessageView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { PaperclipIcon } from './PaperclipIcon.js';

/** Formats a byte count for people. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * An attachment: images are downloaded, verified and decrypted right away and shown inline
 * (as a `blob:` URL, allowed by the CSP's img-src); other files download on demand. In a
 * message request nothing is fetched by itself (a fetch would tell the sender I opened it):
 * a "Download" button asks first.
 * @param props.message the attachment message
 */
export function AttachmentPreview({ message }: { message: MessageView }) {
  const { api, state } = useApp();
  const inRequest = state.conversations[message.conversationId]?.myState === 'request';
  const [asked, setAsked] = useState(false);
  const att = message.attachment;
  const isImage = !!att && /^image\/(png|jpeg|gif|webp|avif)$/.test(att.contentType);
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(message);
  latest.current = message;
  // Status updates must not re-download: only the id and "uploaded yet?" matter.
  const ready =
    !(message.direction === 'out' && message.status === 'sending') && (!inRequest || asked);

  useEffect(() => {
    if (!isImage || !ready) return;
    let revoked = false;
    let objectUrl: string | null = null;
    api.downloadAttachment(latest.current).then(
      (blob) => {
        if (revoked) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      (e: unknown) => !revoked && setError(describeError(e)),
    );
    return () => {
      revoked = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, message.id, isImage, ready]);

  if (!att) return null;
  const download = async () => {
    setAsked(true);
    // A request's image, asked for: shown inline like any other (the effect fetches it).
    if (isImage && inRequest && !asked) return;
    try {
      const blob = await api.downloadAttachment(message);
      const a = document.createElement('a');
      const href = URL.createObjectURL(blob);
      a.href = href;
      a.download = att.fileName ?? 'attachment';
      a.click();
      setTimeout(() => URL.revokeObjectURL(href), 10_000);
    } catch (e) {
      setError(describeError(e));
    }
  };
  return (
    <div className="attachment">
      {isImage && url && (
        <img src={url} alt={att.fileName ?? 'Image'} className="attachment-image" />
      )}
      {isImage && ready && !url && !error && <span className="muted small">Decrypting image…</span>}
      {inRequest && !asked && (
        <span className="muted small">Not downloaded: this is a message request.</span>
      )}
      <button type="button" className="link small" onClick={download}>
        <PaperclipIcon /> {inRequest && !asked ? 'Download ' : ''}
        {att.fileName ?? 'Attachment'} ({formatBytes(att.size)})
      </button>
      {error && (
        <span className="error small" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
