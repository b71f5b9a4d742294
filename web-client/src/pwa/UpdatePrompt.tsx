import { useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { updateState } from './update-state.js';

/**
 * "A new version is available. Reload": shown when a new build's service worker has installed
 * and waits. Reload lets it take over and reloads the page (register.ts); until then the page
 * keeps running the version it loaded.
 */
export function UpdatePrompt() {
  const { t } = useTranslation('pwa');
  const apply = useSyncExternalStore(updateState.subscribe, updateState.get, updateState.get);
  const [busy, setBusy] = useState(false);
  if (!apply) return null;
  return (
    <div className="banner banner-update" role="status" data-testid="update-prompt">
      {t('updateAvailable')}{' '}
      <button
        type="button"
        className="small"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          void apply().finally(() => setBusy(false));
        }}
      >
        {t('reload')}
      </button>
    </div>
  );
}
