import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { askPermission, setPrefs, useNotificationPrefs } from '../state/notification-prefs.js';
import { useApp } from '../state/store.js';
import { useNotifications } from '../state/use-notifications.js';
import '../styles/notifications.css';

/**
 * Notifications of the signed-in shell (mounted once in App.tsx): runs
 * {@link useNotifications} and, on the chats screen, asks once whether to turn them on. The
 * browser's own permission prompt opens only from "Turn on", never on load; "Not now" is
 * remembered on this browser.
 */
export function Notifications() {
  useNotifications();
  const { state } = useApp();
  const { t } = useTranslation('notify');
  const { prefs, permission } = useNotificationPrefs();
  const [blocked, setBlocked] = useState(false);
  if (state.view.name !== 'chats') return null;
  if (blocked) {
    return (
      <div className="banner banner-notify" role="status" data-testid="notify-prompt">
        {t('prompt.blocked')}{' '}
        <button type="button" className="secondary small" onClick={() => setBlocked(false)}>
          {t('prompt.dismiss')}
        </button>
      </div>
    );
  }
  if (permission !== 'default' || prefs.promptDismissed || !prefs.enabled) return null;
  const turnOn = async () => {
    const result = await askPermission().catch(() => 'default' as const);
    if (result === 'granted') setPrefs({ enabled: true });
    else if (result === 'denied') setBlocked(true);
    // Closed without an answer: the browser may ask again; so do we, next time.
  };
  return (
    <section
      className="banner banner-notify"
      aria-label={t('prompt.label')}
      data-testid="notify-prompt"
    >
      <span>{t('prompt.text')}</span>
      <button type="button" className="small" onClick={() => void turnOn()}>
        {t('prompt.turnOn')}
      </button>
      <button
        type="button"
        className="secondary small"
        onClick={() => setPrefs({ promptDismissed: true })}
      >
        {t('prompt.notNow')}
      </button>
    </section>
  );
}
