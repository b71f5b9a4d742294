import { useApp } from '../state/store.js';

/** Shown while the socket is down; the SDK reconnects on its own and the banner goes away. */
export function OfflineBanner() {
  const { state } = useApp();
  if (state.online) return null;
  return (
    <div className="banner banner-offline" role="status" aria-live="polite">
      You are offline. Reconnecting automatically… Messages that fail to send meanwhile can be
      retried.
    </div>
  );
}
