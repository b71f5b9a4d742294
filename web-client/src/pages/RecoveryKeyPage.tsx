import { useId, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { useApp } from '../state/store.js';

/**
 * Groups a key in blocks of four for reading aloud or copying by hand. The SDK's dashes are
 * replaced by spaces so the key wraps between blocks; typing it back with or without them works.
 */
export function groupKey(key: string): string {
  const compact = key.replace(/[\s-]+/g, '');
  return compact.match(/.{1,4}/g)?.join(' ') ?? compact;
}

/**
 * Shows the recovery key exactly once, right after sign-up. It lives only in memory here and is
 * dropped as soon as the user confirms they saved it.
 */
export function RecoveryKeyPage() {
  const { state, dispatch } = useApp();
  const { t } = useTranslation('auth');
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const checkId = useId();
  const key = state.recoveryKey ?? '';
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(key);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <main className="center-page">
      <section className="card recovery-card" aria-labelledby="recovery-title">
        <h1 id="recovery-title">{t('recovery.title')}</h1>
        <p>
          <Trans t={t} i18nKey="recovery.once" components={{ strong: <strong /> }} />
        </p>
        <p className="recovery-key" data-testid="recovery-key" aria-label={t('recovery.keyLabel')}>
          {groupKey(key)}
        </p>
        <div className="actions">
          <button type="button" className="secondary" onClick={copy}>
            {t('recovery.copy')}
          </button>
          {copied && <span role="status">{t('recovery.copied')}</span>}
        </div>
        <p className="muted small">{t('recovery.storeHint')}</p>
        <div className="check">
          <input
            id={checkId}
            type="checkbox"
            checked={saved}
            onChange={(e) => setSaved(e.target.checked)}
          />
          <label htmlFor={checkId}>{t('recovery.savedCheck')}</label>
        </div>
        <button
          type="button"
          disabled={!saved}
          onClick={() => dispatch({ type: 'recoveryKeyConfirmed' })}
        >
          {t('continue')}
        </button>
      </section>
    </main>
  );
}
