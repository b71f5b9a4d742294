import { useApp } from '../state/store.js';

/**
 * Shown while the socket is down (the SDK reconnects on its own and the banner goes away), and
 * when this browser refused the server's key backup (an older or altered copy).
 */
export function OfflineBanner() {
  const { state } = useApp();
  return (
    <>
      {state.backupWarning && (
        <div className="banner banner-offline" role="alert" data-testid="backup-warning">
          {state.backupWarning}
        </div>
      )}
      {!state.online && (
        <div className="banner banner-offline" role="status" aria-live="polite">
          You are offline. Reconnecting automatically… Messages that fail to send meanwhile can be
          retried.
        </div>
      )}
    </>
  );
}
