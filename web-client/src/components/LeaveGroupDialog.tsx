import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import { Dialog } from './Dialog.js';

/**
 * Asks before leaving a group: the members are told, the chat becomes read-only here, and only
 * an owner or admin can add me again.
 * @param props.title the group's name as shown
 * @param props.onLeave leaves (rejects with the reason on failure)
 * @param props.onClose closes without leaving
 */
export function LeaveGroupDialog({
  title,
  onLeave,
  onClose,
}: {
  title: string;
  onLeave: () => Promise<void>;
  onClose: () => void;
}) {
  const { t } = useTranslation('groups');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const leave = async () => {
    setBusy(true);
    setError(null);
    try {
      await onLeave();
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  };
  return (
    <Dialog title={t('leave.title', { title })} onClose={onClose}>
      <p>{t('leave.explain')}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="secondary" onClick={onClose} disabled={busy}>
          {t('cancel')}
        </button>
        <button type="button" className="danger" onClick={() => void leave()} disabled={busy}>
          {t('leave.submit')}
        </button>
      </div>
    </Dialog>
  );
}
