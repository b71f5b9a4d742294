import { useId, useState } from 'react';
import type { FormEvent } from 'react';
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
  if (unlockAs) return <UnlockPage me={unlockAs} onForget={onForget} />;
  return (
    <main className="center-page auth-page">
      <div className="card auth-card">
        <div className="brand brand-large">
          <img src="/logo.png" alt="" width="48" height="48" />
          <h1>CipherChat</h1>
        </div>
        <p className="muted">
          End-to-end encrypted: the server never sees your messages or your password.
        </p>
        <div role="tablist" aria-label="Account" className="tabs">
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'login'}
            onClick={() => setMode('login')}
          >
            Log in
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'signup'}
            onClick={() => setMode('signup')}
          >
            Sign up
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
    <form onSubmit={submit} aria-label="Log in" role="tabpanel">
      <Field label="Email" type="email" value={email} onChange={setEmail} autoComplete="username" />
      <Field
        label="Password"
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
        {busy ? 'Logging in and restoring keys…' : 'Log in'}
      </button>
      <p className="muted small">
        On a new browser, logging in restores your keys from your encrypted backup.
      </p>
      <button type="button" className="link" onClick={onForgot}>
        Forgot your password?
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
  return (
    <section aria-labelledby="locked-title">
      <h2 id="locked-title">Your key backup needs your recovery key</h2>
      <p className="muted small">
        Your password was reset, so your encrypted key backup can no longer be opened with it. Enter
        the recovery key you saved at sign-up to keep your identity and your contacts' trust.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void props.onRecover(key.trim());
        }}
        aria-label="Restore with recovery key"
      >
        <div className="field">
          <label htmlFor={keyId}>Recovery key</label>
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
          Restore with recovery key
        </button>
      </form>
      <div className="notice notice-warning">
        <p>
          <strong>No recovery key?</strong> You can start over with a new identity. Your contacts
          will see that your safety number changed, and messages sent to your old keys cannot be
          read.
        </p>
        {!confirmFresh ? (
          <button
            type="button"
            className="secondary"
            onClick={() => setConfirmFresh(true)}
            disabled={props.busy}
          >
            Start a new identity…
          </button>
        ) : (
          <button
            type="button"
            className="danger"
            onClick={() => void props.onFresh()}
            disabled={props.busy}
          >
            Yes, start a new identity
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
        aria-label="Unlock"
        onSubmit={(e) => {
          e.preventDefault();
          void run(me.email, password);
        }}
      >
        <div className="brand brand-large">
          <img src="/logo.png" alt="" width="48" height="48" />
          <h1>Welcome back, {me.displayName}</h1>
        </div>
        <p className="muted">
          Your keys on this browser are locked. Enter your password to unlock them.
        </p>
        <p className="small">{me.email}</p>
        <Field
          label="Password"
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
            {busy ? 'Unlocking…' : 'Unlock'}
          </button>
          <button
            type="button"
            className="link"
            onClick={() => void api.logOut().finally(() => onForget?.())}
          >
            Not you? Log out
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
    <form onSubmit={submit} aria-label="Reset password">
      <h2>Reset your password</h2>
      <p className="muted small">
        We email you a link. Your messages stay readable only if you still have the recovery key
        shown at sign-up; without it your account starts a new identity and your contacts see a
        safety-number change.
      </p>
      <Field label="Email" type="email" value={email} onChange={setEmail} autoComplete="email" />
      {sent && <p role="status">If an account exists for this address, an email is on its way.</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="secondary" onClick={onBack}>
          Back to log in
        </button>
        <button type="submit">Send reset link</button>
      </div>
    </form>
  );
}
