import { useEffect, useId, useState } from 'react';
import { describeError } from '../state/index.js';
import type { PrivacyView, UserView } from '../state/index.js';
import { useApp } from '../state/store.js';

const TOGGLES: Array<{ key: keyof PrivacyView; label: string; hint: string }> = [
  {
    key: 'readReceipts',
    label: 'Send read receipts',
    hint: 'Others see “Read” under their messages once you read them.',
  },
  { key: 'typing', label: 'Show when I am typing', hint: 'Others see “typing…” while you write.' },
  {
    key: 'lastSeen',
    label: 'Show when I was last online',
    hint: 'Without it, people you talk with see only whether you are online now.',
  },
];

/**
 * Settings › Privacy: what I share, each toggle saved at once with its outcome announced; a
 * change made on another device of mine shows here at once.
 * Strangers (message requests I have not accepted) and people I blocked never get any of it.
 */
export function PrivacySettings() {
  const { api } = useApp();
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
      setDone('Privacy settings saved.');
    } catch (e) {
      setSettings(settings);
      setError(`Not saved: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="privacy-title">
      <h2 id="privacy-title">Privacy</h2>
      <p className="muted small">
        People whose message requests you have not accepted, and people you blocked, never see any
        of this.
      </p>
      {!settings && !error && <p role="status">Loading privacy settings…</p>}
      {settings && (
        <fieldset disabled={busy}>
          <legend className="visually-hidden">What I share</legend>
          {TOGGLES.map((t) => (
            <div className="check" key={t.key}>
              <input
                id={`${baseId}-${t.key}`}
                type="checkbox"
                role="switch"
                checked={settings[t.key]}
                aria-describedby={`${baseId}-${t.key}-hint`}
                onChange={(e) => void toggle(t.key, e.target.checked)}
              />
              <span className="check-text">
                <label htmlFor={`${baseId}-${t.key}`}>{t.label}</label>
                <span id={`${baseId}-${t.key}-hint`} className="muted small">
                  {t.hint}
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
      setDone(`${u.displayName} is unblocked.`);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <section className="card" aria-labelledby="blocked-title">
      <h2 id="blocked-title">Blocked people</h2>
      <p className="muted small">
        Their messages do not reach you, and they cannot see when you are online.
      </p>
      {!people && !error && <p role="status">Loading…</p>}
      {people && people.length === 0 && <p className="muted">You have not blocked anyone.</p>}
      {people && people.length > 0 && (
        <ul className="blocked-list" aria-label="Blocked people">
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
                aria-label={`Unblock ${u.displayName}`}
                onClick={() => void unblock(u)}
              >
                Unblock
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
