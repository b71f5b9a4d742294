import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import type { PrivacyView, UserView } from '../state/index.js';
import { useApp } from '../state/store.js';

/** The switches, in order (each worded by `settings:privacy.<key>.label` and `.hint`). */
const TOGGLES: Array<keyof PrivacyView> = ['readReceipts', 'typing', 'lastSeen'];

/**
 * Settings › Privacy: what I share, each toggle saved at once with its outcome announced; a
 * change made on another device of mine shows here at once.
 * Strangers (message requests I have not accepted) and people I blocked never get any of it.
 */
export function PrivacySettings() {
  const { api } = useApp();
  const { t } = useTranslation('settings');
  const [settings, setSettings] = useState<PrivacyView | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const baseId = useId();
  useEffect(() => {
    // Changed on another device of mine while this panel is open: show what now applies (a
    // first read still on its way is older than that).
    let pushed = false;
    const off = api.subscribe((e) => {
      if (e.type !== 'privacyChanged') return;
      pushed = true;
      setSettings(e.settings);
    });
    api.getPrivacy().then(
      (s) => !pushed && setSettings(s),
      (e: unknown) => setError(describeError(e)),
    );
    return off;
  }, [api]);
  const toggle = async (key: keyof PrivacyView, on: boolean) => {
    if (!settings) return;
    setBusy(true);
    setError(null);
    setDone(null);
    // The switch moves at once; a refusal puts it back and says so.
    const next = { ...settings, [key]: on };
    setSettings(next);
    try {
      setSettings(await api.savePrivacy(next));
      setDone(t('privacy.saved'));
    } catch (e) {
      setSettings(settings);
      setError(t('privacy.notSaved', { reason: describeError(e) }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="privacy-title">
      <h2 id="privacy-title">{t('privacy.title')}</h2>
      <p className="muted small">{t('privacy.intro')}</p>
      {!settings && !error && <p role="status">{t('privacy.loading')}</p>}
      {settings && (
        <fieldset disabled={busy}>
          <legend className="visually-hidden">{t('privacy.legend')}</legend>
          {TOGGLES.map((key) => (
            <div className="check" key={key}>
              <input
                id={`${baseId}-${key}`}
                type="checkbox"
                role="switch"
                checked={settings[key]}
                aria-describedby={`${baseId}-${key}-hint`}
                onChange={(e) => void toggle(key, e.target.checked)}
              />
              <span className="check-text">
                <label htmlFor={`${baseId}-${key}`}>{t(`privacy.${key}.label`)}</label>
                <span id={`${baseId}-${key}-hint`} className="muted small">
                  {t(`privacy.${key}.hint`)}
                </span>
              </span>
            </div>
          ))}
        </fieldset>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {done && <p role="status">{done}</p>}
    </section>
  );
}

/** Settings › Blocked people: who I blocked, each with Unblock. */
export function BlockedPeople() {
  const { api } = useApp();
  const { t } = useTranslation('settings');
  const [people, setPeople] = useState<UserView[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  useEffect(() => {
    api.blockedUsers().then(setPeople, (e: unknown) => setError(describeError(e)));
  }, [api]);
  const unblock = async (u: UserView) => {
    setBusy(u.id);
    setError(null);
    setDone(null);
    try {
      await api.unblock(u.id);
      setPeople((list) => (list ?? []).filter((p) => p.id !== u.id));
      setDone(t('blocked.unblocked', { name: u.displayName }));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <section className="card" aria-labelledby="blocked-title">
      <h2 id="blocked-title">{t('blocked.title')}</h2>
      <p className="muted small">{t('blocked.intro')}</p>
      {!people && !error && <p role="status">{t('blocked.loading')}</p>}
      {people && people.length === 0 && <p className="muted">{t('blocked.none')}</p>}
      {people && people.length > 0 && (
        <ul className="blocked-list" aria-label={t('blocked.title')}>
          {people.map((u) => (
            <li key={u.id}>
              <span>
                {u.displayName}
                {u.username && <span className="muted small"> @{u.username}</span>}
              </span>
              <button
                type="button"
                className="secondary small"
                disabled={busy !== null}
                aria-label={t('blocked.unblockLabel', { name: u.displayName })}
                onClick={() => void unblock(u)}
              >
                {t('blocked.unblock')}
              </button>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {done && <p role="status">{done}</p>}
    </section>
  );
}
