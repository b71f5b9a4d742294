import { useEffect, useState } from 'react';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Dialog } from './Dialog.js';

/**
 * Confirms logging out. Logging out wipes this browser's keys and history, so when the key
 * backup is behind the user is warned and offered to back up first, and messages still waiting
 * to be sent are counted (they would be deleted).
 */
export function LogOutDialog({ onClose }: { onClose: () => void }) {
  const { api, actions } = useApp();
  const [upToDate, setUpToDate] = useState<boolean | null>(null);
  const [unsent, setUnsent] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.isBackupUpToDate().then(setUpToDate, () => setUpToDate(false));
    api.unsentCount().then(setUnsent, () => setUnsent(0));
  }, [api]);

  const backUp = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.backupNow();
      setUpToDate(await api.isBackupUpToDate());
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  const logOut = async () => {
    setBusy(true);
    setError(null);
    try {
      await actions.signOut();
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  };

  return (
    <Dialog title="Log out?" onClose={onClose}>
      <p>
        Logging out removes your keys and message history from this browser. Log in again to restore
        your keys from the encrypted backup.
      </p>
      {upToDate === null && <p role="status">Checking your key backup…</p>}
      {upToDate === false && (
        <div className="notice notice-warning" role="alert">
          <strong>Your key backup is not up to date.</strong> If you log out now, recent changes to
          your keys are lost and some conversations may not decrypt on your next login.
          <div className="actions">
            <button type="button" onClick={backUp} disabled={busy}>
              Back up now
            </button>
          </div>
        </div>
      )}
      {upToDate === true && <p className="muted">Your key backup is up to date.</p>}
      {unsent > 0 && (
        <div className="notice notice-warning" role="alert">
          <strong>
            {unsent === 1 ? '1 message has' : `${unsent} messages have`} not been sent yet.
          </strong>{' '}
          Logging out deletes {unsent === 1 ? 'it' : 'them'} from this browser. Cancel and wait
          until you are back online to send {unsent === 1 ? 'it' : 'them'}.
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="secondary" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button
          type="button"
          className="danger"
          onClick={logOut}
          disabled={busy || upToDate === null}
        >
          {upToDate === false || unsent > 0 ? 'Log out anyway' : 'Log out'}
        </button>
      </div>
    </Dialog>
  );
}
