import { useEffect, useId, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import type { NotificationPreferences } from '../state/index.js';
import { useApp } from '../state/store.js';
import { RecoveryKeyForm } from './RecoveryKeyForm.js';
import { useFormStatus } from '../components/useFormStatus.js';
import { BlockedPeople, PrivacySettings } from '../components/PrivacySettings.js';
import { ThemeSetting } from '../theme/ThemeSetting.js';
import { NotificationSettings } from '../components/NotificationSettings.js';
import { AvatarSettings } from '../components/AvatarSettings.js';
import { LanguageSetting } from '../components/LanguageSetting.js';
import { DecryptDiagnostics } from '../components/DecryptDiagnostics.js';

/** Settings: profile, password, email notifications, privacy, blocked people. */
export function SettingsPage() {
  const { t } = useTranslation('account');
  return (
    <section className="page settings" aria-labelledby="settings-title">
      <h1 id="settings-title">{t('settings.title')}</h1>
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
      <DecryptDiagnostics />
    </section>
  );
}

function ProfileForm() {
  const { api, state, dispatch } = useApp();
  const [displayName, setDisplayName] = useState(state.me?.displayName ?? '');
  const [username, setUsername] = useState(state.me?.username ?? '');
  const { busy, run, status } = useFormStatus();
  const nameId = useId();
  const userId = useId();
  const { t } = useTranslation('account');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const patch: { displayName?: string; username?: string } = {};
      if (displayName !== state.me?.displayName) patch.displayName = displayName;
      if (username !== state.me?.username) patch.username = username;
      if (!patch.displayName && !patch.username) return t('settings.nothing');
      dispatch({ type: 'meUpdated', me: await api.updateProfile(patch) });
      return t('settings.profileSaved');
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="profile-title">
      <h2 id="profile-title">{t('settings.profile')}</h2>
      <p className="muted small">
        {t('settings.email', { email: state.me?.email })}{' '}
        {state.me && !state.me.emailVerified && <span className="warn-chip">{t('settings.notVerified')}</span>}
      </p>
      <div className="field">
        <label htmlFor={nameId}>{t('settings.displayName')}</label>
        <input
          id={nameId}
          value={displayName}
          required
          maxLength={64}
          onChange={(e) => setDisplayName(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={userId}>{t('settings.username')}</label>
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
        {t('settings.saveProfile')}
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
  const { t } = useTranslation('account');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      if (newPassword !== confirm) throw new Error(t('settings.differ'));
      await api.changePassword(newPassword);
      setNew('');
      setConfirm('');
      return t('settings.passwordChanged');
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title">{t('settings.changePassword')}</h2>
      <p className="muted small">{t('settings.passwordIntro')}</p>
      <div className="field">
        <label htmlFor={ids.next}>{t('settings.newPassword')}</label>
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
        <label htmlFor={ids.confirm}>{t('settings.confirmPassword')}</label>
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
        {t('settings.changePassword')}
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
  const { t } = useTranslation('account');
  useEffect(() => {
    api.getPreferences().then(setPrefs, (e: unknown) => setLoadError(describeError(e)));
  }, [api]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!prefs) return;
    void run(async () => {
      setPrefs(await api.savePreferences(prefs));
      return t('settings.prefsSaved');
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="prefs-title">
      <h2 id="prefs-title">{t('settings.emailTitle')}</h2>
      {loadError && (
        <p className="error" role="alert">
          {loadError}
        </p>
      )}
      {!prefs && !loadError && <p role="status">{t('settings.loadingPrefs')}</p>}
      {prefs && (
        <fieldset disabled={busy}>
          <legend className="visually-hidden">{t('settings.emailTitle')}</legend>
          <div className="check">
            <input
              id={ids.digest}
              type="checkbox"
              checked={prefs.email.digest}
              onChange={(e) =>
                setPrefs({ ...prefs, email: { ...prefs.email, digest: e.target.checked } })
              }
            />
            <label htmlFor={ids.digest}>{t('settings.digest')}</label>
          </div>
          <div className="field">
            <label htmlFor={ids.delay}>{t('settings.delay')}</label>
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
            <label htmlFor={ids.level}>{t('settings.level')}</label>
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
              <option value="sender">{t('settings.levelSender')}</option>
              <option value="generic">{t('settings.levelGeneric')}</option>
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
            <label htmlFor={ids.login}>{t('settings.newLogin')}</label>
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
            <label htmlFor={ids.welcome}>{t('settings.welcome')}</label>
          </div>
          <p className="muted small">{t('settings.always')}</p>
        </fieldset>
      )}
      {status}
      <button type="submit" disabled={busy || !prefs}>
        {t('settings.savePrefs')}
      </button>
    </form>
  );
}
