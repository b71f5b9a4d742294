import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { askPermission, setPrefs, useNotificationPrefs } from '../state/notification-prefs.js';
import type { NotificationPrefs } from '../state/notifications.js';

/**
 * Settings › Notifications on this browser: system notifications (asks the browser's
 * permission when turned on; says how to allow them again when the browser blocks them),
 * previews (sender and text; off by default), the sound, and Web Push, which is not built
 * (disabled, with the reason; see docs/web-client.md "Web Push (design)").
 */
export function NotificationSettings() {
  const { t } = useTranslation('notify');
  const { prefs, permission } = useNotificationPrefs();
  const [dismissed, setDismissed] = useState(false);
  const id = useId();
  const enabled = permission === 'granted' && prefs.enabled;
  const toggleEnabled = async (on: boolean) => {
    setDismissed(false);
    if (!on) return setPrefs({ enabled: false });
    const result = permission === 'granted' ? 'granted' : await askPermission();
    if (result === 'granted') setPrefs({ enabled: true, promptDismissed: false });
    else if (result === 'default') setDismissed(true);
  };
  const toggle = (
    key: keyof NotificationPrefs | 'push',
    checked: boolean,
    onChange: ((on: boolean) => void) | null,
  ) => (
    <div className="check" key={key}>
      <input
        id={`${id}-${key}`}
        type="checkbox"
        role="switch"
        checked={checked}
        disabled={onChange === null}
        aria-describedby={`${id}-${key}-hint`}
        onChange={(e) => onChange?.(e.target.checked)}
      />
      <span className="check-text">
        <label htmlFor={`${id}-${key}`}>{t(`settings.${key}`)}</label>
        <span id={`${id}-${key}-hint`} className="muted small">
          {t(`settings.${key}Hint`)}
        </span>
      </span>
    </div>
  );
  return (
    <section className="card" aria-labelledby={`${id}-title`} data-testid="notification-settings">
      <h2 id={`${id}-title`}>{t('settings.title')}</h2>
      <p className="muted small">{t('settings.intro')}</p>
      {permission === 'unsupported' ? (
        <p className="muted">{t('settings.unsupported')}</p>
      ) : (
        toggle('enabled', enabled, permission === 'denied' ? null : (on) => void toggleEnabled(on))
      )}
      {permission === 'denied' && (
        <p className="notice small" role="status" data-testid="notify-denied">
          {t('settings.denied')}
        </p>
      )}
      {dismissed && <p role="status">{t('settings.dismissed')}</p>}
      {toggle('previews', prefs.previews, (on) => setPrefs({ previews: on }))}
      {toggle('sound', prefs.sound, (on) => setPrefs({ sound: on }))}
      {toggle('push', false, null)}
    </section>
  );
}
