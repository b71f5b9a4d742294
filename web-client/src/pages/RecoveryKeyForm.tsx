import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';

/**
 * Settings card that replaces the recovery key. The SDK re-keys the backup before it returns the
 * new key, so the old key (with any older copy of the backup) opens nothing from then on; the new
 * key is shown once on the same page as at sign-up.
 */
export function RecoveryKeyForm() {
  const { api, dispatch } = useApp();
  const { t } = useTranslation('auth');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rotate = async () => {
    setBusy(true);
    setError(null);
    try {
      dispatch({ type: 'recoveryKeyRotated', recoveryKey: await api.rotateRecoveryKey() });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="recovery-rotate-title">
      <h2 id="recovery-rotate-title">{t('rotate.title')}</h2>
      <p className="muted small">{t('rotate.explain')}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="button" className="secondary" disabled={busy} onClick={() => void rotate()}>
        {t('rotate.submit')}
      </button>
    </section>
  );
}
