import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { IdentityNotice } from '../components/IdentityNotice.js';
import { QrCode } from '../components/QrCode.js';
import { VerifiedMark } from '../components/VerifiedMark.js';
import { describeError } from '../state/index.js';
import type { SafetyNumberView } from '../state/index.js';
import { useApp } from '../state/store.js';

/** Splits the 60 digits into the 12 blocks of 5 that Signal shows. */
export function digitBlocks(digits: string): string[] {
  return digits.replace(/\D/g, '').match(/.{1,5}/g) ?? [];
}

/**
 * Safety number with a contact: 60 digits and a QR code to compare in person, and the switch
 * to mark the contact verified.
 * @param props.userId the contact
 */
export function SafetyNumberPage({ userId }: { userId: string }) {
  const { api, state, dispatch, actions } = useApp();
  const { t } = useTranslation('safety');
  const [sn, setSn] = useState<SafetyNumberView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const name = state.users[userId]?.displayName ?? t('number.thisContact');
  const changed = !!state.identityChanged[userId];

  useEffect(() => {
    let cancelled = false;
    setSn(null);
    setError(null);
    api.safetyNumber(userId).then(
      (v) => !cancelled && setSn(v),
      (e: unknown) => !cancelled && setError(describeError(e)),
    );
    return () => {
      cancelled = true;
    };
    // A changed identity means a new number: recompute when that flag flips.
  }, [api, userId, changed]);

  const markVerified = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.markVerified(userId);
      dispatch({ type: 'verifiedSet', userId, verified: true });
      setSn((s) => (s ? { ...s, verified: true } : s));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  const direct = Object.values(state.conversations).find(
    (c) => c.kind === 'direct' && c.members.some((m) => m.userId === userId),
  );
  const verified = !!state.verified[userId];

  return (
    <section className="page safety" aria-labelledby="safety-title">
      <div className="page-header">
        <h1 id="safety-title">{t('number.title', { name })}</h1>
        {direct && (
          <button
            type="button"
            className="secondary"
            onClick={() => void actions.openConversation(direct.id)}
          >
            {t('number.backToChat')}
          </button>
        )}
      </div>
      <IdentityNotice userIds={changed ? [userId] : []} />
      <p>{t('number.compare', { name })}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!sn && !error && <p role="status">{t('number.computing')}</p>}
      {sn && (
        <div className="safety-body">
          <QrCode value={sn.qrPayload} label={t('number.qrLabel', { name })} />
          <p
            className="safety-digits"
            aria-label={t('number.digitsLabel')}
            data-testid="safety-number"
          >
            {digitBlocks(sn.digits).map((block, i) => (
              <span key={i} className="digit-block">
                {block}
              </span>
            ))}
          </p>
        </div>
      )}
      <div className="actions">
        {verified || sn?.verified ? (
          <p className="verified-line" role="status">
            <VerifiedMark /> {t('number.verifiedLine', { name })}
          </p>
        ) : (
          <button
            type="button"
            disabled={busy || !sn || changed}
            onClick={() => void markVerified()}
          >
            {t('number.markVerified')}
          </button>
        )}
      </div>
    </section>
  );
}
