import { useEffect, useId, useState } from 'react';
import type { FormEvent } from 'react';
import { describeError } from '../state/index.js';
import type { NotificationPreferences } from '../state/index.js';
import { useApp } from '../state/store.js';
import { RecoveryKeyForm } from './RecoveryKeyForm.js';
import { BlockedPeople, PrivacySettings } from '../components/PrivacySettings.js';
import { ThemeSetting } from '../theme/ThemeSetting.js';
import { NotificationSettings } from '../components/NotificationSettings.js';
import { AvatarSettings } from '../components/AvatarSettings.js';
import { LanguageSetting } from '../components/LanguageSetting.js';

/** Settings: profile, password, email notifications, privacy, blocked people. */
export function SettingsPage() {
  return (
    <section className="page settings" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <ProfileForm />
      <AvatarSettings />
      <LanguageSetting />
      <PasswordForm />
      <RecoveryKeyForm />
      <PreferencesForm />
      <NotificationSettings />
      <PrivacySettings />
      <BlockedPeople />
      <ThemeSetting />
    </section>
  );
}

function useFormStatus() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await work());
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  const status = (
    <>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {done && <p role="status">{done}</p>}
    </>
  );
  return { busy, run, status };
}

function ProfileForm() {
  const { api, state, dispatch } = useApp();
  const [displayName, setDisplayName] = useState(state.me?.displayName ?? '');
  const [username, setUsername] = useState(state.me?.username ?? '');
  const { busy, run, status } = useFormStatus();
  const nameId = useId();
  const userId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const patch: { displayName?: string; username?: string } = {};
      if (displayName !== state.me?.displayName) patch.displayName = displayName;
      if (username !== state.me?.username) patch.username = username;
      if (!patch.displayName && !patch.username) return 'Nothing to change.';
      dispatch({ type: 'meUpdated', me: await api.updateProfile(patch) });
      return 'Profile saved.';
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <p className="muted small">
        Email: {state.me?.email}{' '}
        {state.me && !state.me.emailVerified && <span className="warn-chip">not verified</span>}
      </p>
      <div className="field">
        <label htmlFor={nameId}>Display name</label>
        <input
          id={nameId}
          value={displayName}
          required
          maxLength={64}
          onChange={(e) => setDisplayName(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={userId}>Username</label>
        <input
          id={userId}
          value={username}
          required
          pattern="[A-Za-z0-9_.]{3,32}"
          onChange={(e) => setUsername(e.target.value)}
        />
      </div>
      {status}
      <button type="submit" disabled={busy}>
        Save profile
      </button>
    </form>
  );
}

function PasswordForm() {
  const { api } = useApp();
  const [newPassword, setNew] = useState('');
  const [confirm, setConfirm] = useState('');
  const { busy, run, status } = useFormStatus();
  const ids = { next: useId(), confirm: useId() };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      if (newPassword !== confirm) throw new Error('The two new passwords differ.');
      await api.changePassword(newPassword);
      setNew('');
      setConfirm('');
      return 'Password changed. Your key backup is now sealed under a new key for the new password.';
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <p className="muted small">
        Your password never leaves this browser. Your recovery key keeps working after the change.
      </p>
      <div className="field">
        <label htmlFor={ids.next}>New password</label>
        <input
          id={ids.next}
          type="password"
          value={newPassword}
          required
          minLength={10}
          autoComplete="new-password"
          onChange={(e) => setNew(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.confirm}>Confirm new password</label>
        <input
          id={ids.confirm}
          type="password"
          value={confirm}
          required
          minLength={10}
          autoComplete="new-password"
          onChange={(e) => setConfirm(e.target.value)}
        />
      </div>
      {status}
      <button type="submit" disabled={busy}>
        Change password
      </button>
    </form>
  );
}

function PreferencesForm() {
  const { api } = useApp();
  const [prefs, setPrefs] = useState<NotificationPreferences | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const { busy, run, status } = useFormStatus();
  const ids = { digest: useId(), login: useId(), delay: useId(), level: useId(), welcome: useId() };
  useEffect(() => {
    api.getPreferences().then(setPrefs, (e: unknown) => setLoadError(describeError(e)));
  }, [api]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!prefs) return;
    void run(async () => {
      setPrefs(await api.savePreferences(prefs));
      return 'Notification preferences saved.';
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="prefs-title">
      <h2 id="prefs-title">Email notifications</h2>
      {loadError && (
        <p className="error" role="alert">
          {loadError}
        </p>
      )}
      {!prefs && !loadError && <p role="status">Loading preferences…</p>}
      {prefs && (
        <fieldset disabled={busy}>
          <legend className="visually-hidden">Email notifications</legend>
          <div className="check">
            <input
              id={ids.digest}
              type="checkbox"
              checked={prefs.email.digest}
              onChange={(e) =>
                setPrefs({ ...prefs, email: { ...prefs.email, digest: e.target.checked } })
              }
            />
            <label htmlFor={ids.digest}>Email me about unread messages while I am offline</label>
          </div>
          <div className="field">
            <label htmlFor={ids.delay}>Wait before emailing (minutes)</label>
            <input
              id={ids.delay}
              type="number"
              min={1}
              max={1440}
              required
              value={prefs.digestDelayMinutes}
              onChange={(e) =>
                setPrefs({
                  ...prefs,
                  digestDelayMinutes: Math.max(
                    1,
                    Math.min(1440, Math.round(Number(e.target.value) || 1)),
                  ),
                })
              }
            />
          </div>
          <div className="field">
            <label htmlFor={ids.level}>What the email says</label>
            <select
              id={ids.level}
              value={prefs.digestContent}
              onChange={(e) =>
                setPrefs({
                  ...prefs,
                  digestContent: e.target.value === 'generic' ? 'generic' : 'sender',
                })
              }
            >
              <option value="sender">How many messages and who sent them</option>
              <option value="generic">Only that there are new messages</option>
            </select>
          </div>
          <div className="check">
            <input
              id={ids.login}
              type="checkbox"
              checked={prefs.email.newLogin}
              onChange={(e) =>
                setPrefs({ ...prefs, email: { ...prefs.email, newLogin: e.target.checked } })
              }
            />
            <label htmlFor={ids.login}>Email me when my account logs in on a new device</label>
          </div>
          <div className="check">
            <input
              id={ids.welcome}
              type="checkbox"
              checked={prefs.email.welcome}
              onChange={(e) =>
                setPrefs({ ...prefs, email: { ...prefs.email, welcome: e.target.checked } })
              }
            />
            <label htmlFor={ids.welcome}>Send me a welcome email with tips</label>
          </div>
          <p className="muted small">
            Verification and password-reset emails are always sent, because you asked for them.
          </p>
        </fieldset>
      )}
      {status}
      <button type="submit" disabled={busy || !prefs}>
        Save preferences
      </button>
    </form>
  );
}
