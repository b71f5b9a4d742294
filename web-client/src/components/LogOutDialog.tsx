import { useEffect, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Dialog } from './Dialog.js';

/**
 * Confirms logging out. By default logging out removes this browser from the account's devices
 * (so logged-out browsers do not fill the device limit) and wipes its keys and history; the
 * user may instead keep it as a device (keys and history stay for the next login here). When
 * the key backup is behind the user is warned and offered to back up first, and messages still
 * waiting to be sent are counted (removing would delete them). If the device cannot be removed
 * (server unreachable) the dialog says so and nothing is logged out.
 */
export function LogOutDialog({ onClose }: { onClose: () => void }) {
  const { api, actions } = useApp();
  const { t } = useTranslation('dev');
  const { t: ta } = useTranslation('account');
  const [keepDevice, setKeepDevice] = useState(false);
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
      await actions.signOut({ keepDevice });
    } catch (e) {
      setError(keepDevice ? describeError(e) : t('logOut.notRemoved', { reason: describeError(e) }));
      setBusy(false);
    }
  };

  return (
    <Dialog title={ta('logOut.title')} onClose={onClose}>
      {keepDevice ? (
        <p>{t('logOut.keepIntro')}</p>
      ) : (
        <p>{ta('logOut.removeIntro')}</p>
      )}
      <fieldset className="logout-choice">
        <legend>{t('logOut.choice')}</legend>
        <label>
          <input
            type="radio"
            name="logout-device"
            checked={!keepDevice}
            onChange={() => setKeepDevice(false)}
            disabled={busy}
            aria-describedby="logout-remove-hint"
          />{' '}
          {t('logOut.remove')}
        </label>
        <p id="logout-remove-hint" className="muted small">
          {t('logOut.removeHint')}
        </p>
        <label>
          <input
            type="radio"
            name="logout-device"
            checked={keepDevice}
            onChange={() => setKeepDevice(true)}
            disabled={busy}
            aria-describedby="logout-keep-hint"
          />{' '}
          {t('logOut.keep')}
        </label>
        <p id="logout-keep-hint" className="muted small">
          {t('logOut.keepHint')}
        </p>
      </fieldset>
      {upToDate === null && <p role="status">{ta('logOut.checking')}</p>}
      {upToDate === false && (
        <div className="notice notice-warning" role="alert">
          <Trans t={ta} i18nKey="logOut.stale" components={{ strong: <strong /> }} />
          <div className="actions">
            <button type="button" onClick={backUp} disabled={busy}>
              {ta('logOut.backUp')}
            </button>
          </div>
        </div>
      )}
      {upToDate === true && <p className="muted">{ta('logOut.upToDate')}</p>}
      {unsent > 0 && !keepDevice && (
        <div className="notice notice-warning" role="alert">
          <strong>{ta('logOut.unsent', { count: unsent })}</strong>{' '}
          {ta('logOut.unsentHint', { count: unsent })}
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="secondary" onClick={onClose} disabled={busy}>
          {ta('logOut.cancel')}
        </button>
        <button
          type="button"
          className="danger"
          onClick={logOut}
          disabled={busy || upToDate === null}
        >
          {upToDate === false || unsent > 0 ? ta('logOut.anyway') : ta('logOut.confirm')}
        </button>
      </div>
    </Dialog>
  );
}
