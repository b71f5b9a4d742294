import { useState } from 'react';
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
    <Dialog title={`Leave ${title}?`} onClose={onClose}>
      <p>
        The other members are told that you left. You keep the history on this browser, but you no
        longer get new messages and cannot send; only an owner or admin can add you again.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="secondary" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={() => void leave()} disabled={busy}>
          Leave
        </button>
      </div>
    </Dialog>
  );
}
