import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { RetryStatsView } from '../state/retries.js';
import { useApp } from '../state/store.js';
import '../styles/retry.css';

const ROWS = [
  'unresolved',
  'waiting',
  'failed',
  'resolved',
  'requestsSent',
  'resent',
  'refused',
] as const;

/**
 * Settings → Diagnostics: this browser's decrypt-failure counters (unresolved in all and per
 * sending device, resolved, requests, re-sends, refusals), kept current as placeholders change.
 */
export function DecryptDiagnostics() {
  const { api, state } = useApp();
  const { t } = useTranslation('retry');
  const [stats, setStats] = useState<RetryStatsView | undefined>(() => api.retryStats());
  useEffect(() => {
    setStats(api.retryStats());
    return api.onRetryChanged(() => setStats(api.retryStats()));
  }, [api]);
  if (!stats) return null;
  return (
    <section className="card" aria-labelledby="diagnostics-title" data-testid="decrypt-diagnostics">
      <h2 id="diagnostics-title">{t('diagnostics.title')}</h2>
      <p className="muted small">{t('diagnostics.intro')}</p>
      <dl className="diagnostics">
        {ROWS.map((key) => (
          <div key={key} data-testid={`diag-${key}`}>
            <dt>{t(`diagnostics.${key}`)}</dt>
            <dd>{stats[key]}</dd>
          </div>
        ))}
      </dl>
      <h3>{t('diagnostics.byDevice')}</h3>
      {stats.byDevice.length === 0 ? (
        <p className="muted small">{t('diagnostics.none')}</p>
      ) : (
        <ul data-testid="diag-by-device">
          {stats.byDevice.map((d) => (
            <li key={`${d.userId}.${d.deviceId}`}>
              {t('diagnostics.device', {
                name: state.users[d.userId]?.displayName ?? d.userId,
                deviceId: d.deviceId,
              })}
              : {d.unresolved}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
