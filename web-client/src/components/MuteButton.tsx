import { useState } from 'react';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';

/**
 * Mute / Unmute of a conversation, in this browser only: a muted conversation's unread badge
 * counts only the messages that mention me.
 * @param props.conversationId the conversation
 */
export function MuteButton({ conversationId }: { conversationId: string }) {
  const { state, actions } = useApp();
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
        title="Muted conversations count only messages that mention you (this browser only)"
        onClick={() => void toggle()}
      >
        {muted ? 'Unmute' : 'Mute'}
      </button>
      {error && (
        <span className="error small" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
