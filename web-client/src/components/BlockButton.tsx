import { useState } from 'react';
import { describeError } from '../state/index.js';
import { useRequestActions } from '../state/request-actions.js';

/**
 * Blocks the other person of an open chat: their messages stop reaching me (they are not told)
 * and each of us stops seeing the other's presence. Unblock in Settings › Blocked people.
 * @param props.userId whom
 * @param props.name their name, as shown
 */
export function BlockButton({ userId, name }: { userId: string; name: string }) {
  const requests = useRequestActions();
  const [state, setState] = useState<'idle' | 'busy' | 'done'>('idle');
  const [error, setError] = useState<string | null>(null);
  if (state === 'done') {
    return (
      <span className="muted small" role="status">
        {name} is blocked. Unblock in Settings.
      </span>
    );
  }
  const block = async () => {
    setState('busy');
    setError(null);
    try {
      await requests.block(userId);
      setState('done');
    } catch (e) {
      setError(describeError(e));
      setState('idle');
    }
  };
  return (
    <>
      <button
        type="button"
        className="secondary small"
        disabled={state === 'busy'}
        aria-label={`Block ${name}`}
        onClick={() => void block()}
      >
        Block
      </button>
      {error && (
        <span className="error small" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
