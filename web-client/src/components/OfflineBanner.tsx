import { useTranslation } from 'react-i18next';
import { useApp } from '../state/store.js';

/**
 * Shown while the socket is down (the SDK reconnects on its own and the banner goes away), and
 * when this browser refused the server's key backup (an older or altered copy), and when the
 * server had to drop group messages for it (its mailbox was full while it was offline).
 */
export function OfflineBanner() {
  const { state, dispatch } = useApp();
  const { t } = useTranslation('pwa');
  const { t: ts } = useTranslation('shell');
  return (
    <>
      {state.missedMessages > 0 && (
        <div className="banner banner-offline" role="alert" data-testid="missed-warning">
          {ts('missed', { count: state.missedMessages })}{' '}
          <button type="button" className="small" onClick={() => dispatch({ type: 'messagesMissed', count: 0 })}>
            {ts('dismiss')}
          </button>
        </div>
      )}
      {state.backupWarning && (
        <div className="banner banner-offline" role="alert" data-testid="backup-warning">
          {state.backupWarning}
        </div>
      )}
      {!state.online && (
        <div className="banner banner-offline" role="status" aria-live="polite">
          {t('offlineBanner')}
        </div>
      )}
    </>
  );
}
