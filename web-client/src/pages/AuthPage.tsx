import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import { DeviceLimitNotice, deviceLimitOf } from '../components/DeviceLimitNotice.js';
import type { MeView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Field } from './AuthField.js';
import { SignUpForm } from './SignUpForm.js';

type Mode = 'login' | 'signup' | 'reset';

/**
 * The signed-out screens: log in (also restores keys on a new browser), sign up, reset; or, when
 * the session survived a reload but the keys are locked, "unlock" with the password.
 * @param props.unlockAs the user whose keys are locked on this browser, if any
 * @param props.onForget leave the locked session (log out instead of unlocking)
 */
export function AuthPage({
  unlockAs,
  onForget,
}: {
  unlockAs?: MeView | null;
  onForget?: () => void;
}) {
  const [mode, setMode] = useState<Mode>('login');
  const { t } = useTranslation('account');
  if (unlockAs) return <UnlockPage me={unlockAs} onForget={onForget} />;
  return (
    <main className="center-page auth-page">
      <div className="card auth-card">
        <div className="brand brand-large">
          <img src="/logo.png" alt="" width="48" height="48" />
          <h1>CipherChat</h1>
        </div>
        <p className="muted">{t('auth.tagline')}</p>
        <div role="tablist" aria-label={t('auth.tabs')} className="tabs">
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'login'}
            onClick={() => setMode('login')}
          >
            {t('auth.logIn')}
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'signup'}
            onClick={() => setMode('signup')}
          >
            {t('auth.signUp')}
          </button>
        </div>
        {mode === 'login' && <LogInForm onForgot={() => setMode('reset')} />}
        {mode === 'signup' && <SignUpForm />}
        {mode === 'reset' && <ResetForm onBack={() => setMode('login')} />}
      </div>
    </main>
  );
}

/** Logs in; handles a key backup sealed under an older password (after a reset). */
function useLogIn() {
  const { api, dispatch } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [locked, setLocked] = useState(false);
  const [limit, setLimit] = useState<{ max: number | undefined } | null>(null);
  const run = async (
    email: string,
    password: string,
    options?: { recoveryKey?: string; startFresh?: boolean },
  ) => {
    setBusy(true);
    setError(null);
    setLimit(null);
    try {
      const r = await api.logIn(email, password, options);
      // A new identity comes with a new recovery key: show it once, as at sign-up.
      dispatch(
        r.recoveryKey
          ? { type: 'signedUp', me: r.me, recoveryKey: r.recoveryKey }
          : { type: 'sessionStarted', me: r.me },
      );
    } catch (err) {
      if (err && typeof err === 'object' && 'code' in err && err.code === 'backup_locked')
        setLocked(true);
      else if (deviceLimitOf(err)) setLimit(deviceLimitOf(err));
      else setError(describeError(err));
      setBusy(false);
    }
  };
  return { busy, error, locked, limit, run };
}

function LogInForm({ onForgot }: { onForgot: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, locked, limit, run } = useLogIn();
  const { t } = useTranslation('account');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(email, password);
  };
  if (locked) {
    return (
      <BackupLockedStep
        busy={busy}
        error={error}
        onRecover={(recoveryKey) => run(email, password, { recoveryKey })}
        onFresh={() => run(email, password, { startFresh: true })}
      />
    );
  }
  return (
    <form onSubmit={submit} aria-label={t('auth.logIn')} role="tabpanel">
      <Field
        label={t('auth.email')}
        type="email"
        value={email}
        onChange={setEmail}
        autoComplete="username"
      />
      <Field
        label={t('auth.password')}
        type="password"
        value={password}
        onChange={setPassword}
        autoComplete="current-password"
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {limit && <DeviceLimitNotice max={limit.max} />}
      <button type="submit" disabled={busy}>
        {busy ? t('auth.loggingIn') : t('auth.logIn')}
      </button>
      <p className="muted small">{t('auth.restoreHint')}</p>
      <button type="button" className="link" onClick={onForgot}>
        {t('auth.forgot')}
      </button>
    </form>
  );
}

/**
 * After a password reset the key backup is still sealed under the old password: the recovery
 * key opens it (same identity), or the user starts a new identity (contacts are warned).
 */
function BackupLockedStep(props: {
  busy: boolean;
  error: string | null;
  onRecover: (key: string) => Promise<void>;
  onFresh: () => Promise<void>;
}) {
  const [key, setKey] = useState('');
  const [confirmFresh, setConfirmFresh] = useState(false);
  const keyId = useId();
  const { t } = useTranslation('account');
  return (
    <section aria-labelledby="locked-title">
      <h2 id="locked-title">{t('locked.title')}</h2>
      <p className="muted small">{t('locked.intro')}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void props.onRecover(key.trim());
        }}
        aria-label={t('locked.restore')}
      >
        <div className="field">
          <label htmlFor={keyId}>{t('locked.key')}</label>
          <input
            id={keyId}
            value={key}
            required
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setKey(e.target.value)}
          />
        </div>
        <button type="submit" disabled={props.busy}>
          {t('locked.restore')}
        </button>
      </form>
      <div className="notice notice-warning">
        <p>
          <Trans t={t} i18nKey="locked.noKey" components={{ strong: <strong /> }} />
        </p>
        {!confirmFresh ? (
          <button
            type="button"
            className="secondary"
            onClick={() => setConfirmFresh(true)}
            disabled={props.busy}
          >
            {t('locked.fresh')}
          </button>
        ) : (
          <button
            type="button"
            className="danger"
            onClick={() => void props.onFresh()}
            disabled={props.busy}
          >
            {t('locked.freshYes')}
          </button>
        )}
      </div>
      {props.error && (
        <p className="error" role="alert">
          {props.error}
        </p>
      )}
    </section>
  );
}

/** The session outlived a reload, but the keys stay locked until the password is given. */
function UnlockPage({ me, onForget }: { me: MeView; onForget?: () => void }) {
  const { api } = useApp();
  const [password, setPassword] = useState('');
  const { busy, error, locked, run } = useLogIn();
  const { t } = useTranslation('account');
  if (locked) {
    return (
      <main className="center-page auth-page">
        <div className="card auth-card">
          <BackupLockedStep
            busy={busy}
            error={error}
            onRecover={(recoveryKey) => run(me.email, password, { recoveryKey })}
            onFresh={() => run(me.email, password, { startFresh: true })}
          />
        </div>
      </main>
    );
  }
  return (
    <main className="center-page auth-page">
      <form
        className="card auth-card"
        aria-label={t('unlock.unlock')}
        onSubmit={(e) => {
          e.preventDefault();
          void run(me.email, password);
        }}
      >
        <div className="brand brand-large">
          <img src="/logo.png" alt="" width="48" height="48" />
          <h1>{t('unlock.welcome', { name: me.displayName })}</h1>
        </div>
        <p className="muted">{t('unlock.intro')}</p>
        <p className="small">{me.email}</p>
        <Field
          label={t('auth.password')}
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete="current-password"
        />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? t('unlock.unlocking') : t('unlock.unlock')}
          </button>
          <button
            type="button"
            className="link"
            onClick={() => void api.logOut().finally(() => onForget?.())}
          >
            {t('unlock.notYou')}
          </button>
        </div>
      </form>
    </main>
  );
}

function ResetForm({ onBack }: { onBack: () => void }) {
  const { api } = useApp();
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { t } = useTranslation('account');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.requestPasswordReset(email);
      setSent(true);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <form onSubmit={submit} aria-label={t('reset.label')}>
      <h2>{t('reset.title')}</h2>
      <p className="muted small">{t('reset.intro')}</p>
      <Field
        label={t('auth.email')}
        type="email"
        value={email}
        onChange={setEmail}
        autoComplete="email"
      />
      {sent && <p role="status">{t('reset.sent')}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="secondary" onClick={onBack}>
          {t('reset.back')}
        </button>
        <button type="submit">{t('reset.send')}</button>
      </div>
    </form>
  );
}
