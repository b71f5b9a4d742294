import { useState } from 'react';
import { useTranslation } from 'react-i18next';
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
  const { t } = useTranslation('people');
  const [state, setState] = useState<'idle' | 'busy' | 'done'>('idle');
  const [error, setError] = useState<string | null>(null);
  if (state === 'done') {
    return (
      <span className="muted small" role="status">
        {t('block.done', { name })}
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
        aria-label={t('block.label', { name })}
        onClick={() => void block()}
      >
        {t('block.submit')}
      </button>
      {error && (
        <span className="error small" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
