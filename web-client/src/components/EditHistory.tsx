import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MessageView } from '../state/index.js';
import { isoTime, localDateTime } from './time-format.js';

const time = (at: number) =>
  localDateTime(at, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });

/**
 * The "edited" marker; clicking it shows the earlier texts this browser kept (oldest first).
 * @param props.message an edited message
 */
export function EditHistory({ message }: { message: MessageView }) {
  const { t } = useTranslation('chat');
  const [open, setOpen] = useState(false);
  if (message.editedAt === undefined || message.deletedAt !== undefined) return null;
  return (
    <span className="edit-history">
      <button
        type="button"
        className="link edited-marker"
        aria-expanded={open}
        title={t('edit.title', { time: time(message.editedAt) })}
        onClick={() => setOpen(!open)}
      >
        {t('edit.marker')}
      </button>
      {open && (
        <ol className="edit-list" aria-label={t('edit.history')}>
          {(message.edits ?? []).map((e, i) => (
            <li key={i}>
              <time dateTime={isoTime(e.at)}>{time(e.at)}</time> <span>{e.text}</span>
            </li>
          ))}
          <li className="edit-current">
            <time dateTime={isoTime(message.editedAt)}>{time(message.editedAt)}</time>{' '}
            <span>{message.text}</span> <span className="muted">{t('edit.now')}</span>
          </li>
        </ol>
      )}
    </span>
  );
}
