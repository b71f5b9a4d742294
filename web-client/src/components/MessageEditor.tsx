import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import type { MessageView } from '../state/index.js';
import { useMessageActions } from '../state/use-message-actions.js';

/**
 * Inline editor of my message's text: Enter saves, Shift+Enter is a new line, Escape cancels.
 * @param props.message the message
 * @param props.onDone called when saved or cancelled
 */
export function MessageEditor({ message, onDone }: { message: MessageView; onDone: () => void }) {
  const handlers = useMessageActions();
  const { t } = useTranslation('chat');
  const [text, setText] = useState(message.text ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => input.current?.focus(), []);
  const save = async () => {
    if (text.trim() === '' || busy) return;
    if (text === message.text) return onDone();
    setBusy(true);
    setError(null);
    try {
      await handlers.edit(message, text);
      onDone();
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  };
  return (
    <div className="message-editor">
      <textarea
        ref={input}
        aria-label={t('edit.label')}
        value={text}
        rows={Math.min(6, text.split('\n').length)}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onDone();
          } else if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            void save();
          }
        }}
      />
      <div className="actions">
        <button type="button" className="small secondary" onClick={onDone}>
          {t('edit.cancel')}
        </button>
        <button
          type="button"
          className="small"
          onClick={() => void save()}
          disabled={busy || text.trim() === ''}
        >
          {t('edit.save')}
        </button>
      </div>
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
