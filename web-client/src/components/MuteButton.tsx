import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';

/**
 * Mute / Unmute of a conversation, in this browser only: a muted conversation's unread badge
 * counts only the messages that mention me.
 * @param props.conversationId the conversation
 */
export function MuteButton({ conversationId }: { conversationId: string }) {
  const { state, actions } = useApp();
  const { t } = useTranslation('chat');
  const [error, setError] = useState<string | null>(null);
  const muted = state.muted[conversationId] === true;
  const toggle = async () => {
    setError(null);
    try {
      await actions.setMuted(conversationId, !muted);
    } catch (e) {
      setError(describeError(e));
    }
  };
  return (
    <>
      <button
        type="button"
        className="secondary small"
        aria-pressed={muted}
        data-testid="mute-button"
        title={t('mute.hint')}
        onClick={() => void toggle()}
      >
        {muted ? t('mute.unmute') : t('mute.mute')}
      </button>
      {error && (
        <span className="error small" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
