import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';

/** Which emailed link opened the app, with its one-time token. */
export interface EmailLink {
  kind: 'verify' | 'reset';
  token: string;
}

/**
 * Reads an emailed link (`/verify-email?token=` or `/reset-password?token=`) and removes the
 * token from the address bar and history right away, so it is not left behind in the browser.
 * @param loc the current location
 * @returns the link, or null
 */
export function takeEmailLink(loc: Location = window.location): EmailLink | null {
  const kind =
    loc.pathname === '/verify-email'
      ? 'verify'
      : loc.pathname === '/reset-password'
        ? 'reset'
        : null;
  const token = new URLSearchParams(loc.search).get('token');
  if (!kind || !token) return null;
  window.history.replaceState(null, '', '/');
  return { kind, token };
}

/**
 * The page an emailed link opens.
 * @param props.link the link
 * @param props.onDone back to the app
 */
export function EmailLinkPage({ link, onDone }: { link: EmailLink; onDone: () => void }) {
  return (
    <main className="center-page">
      <div className="card auth-card">
        {link.kind === 'verify' ? (
          <VerifyEmail token={link.token} onDone={onDone} />
        ) : (
          <ResetPassword token={link.token} onDone={onDone} />
        )}
      </div>
    </main>
  );
}

function VerifyEmail({ token, onDone }: { token: string; onDone: () => void }) {
  const { api } = useApp();
  const [state, setState] = useState<'working' | 'done' | string>('working');
  const started = useRef(false);
  useEffect(() => {
    // The token works once: StrictMode's double effect must not spend it twice.
    if (started.current) return;
    started.current = true;
    api.verifyEmail(token).then(
      () => setState('done'),
      (e: unknown) => setState(describeError(e)),
    );
  }, [api, token]);
  return (
    <section aria-labelledby="verify-title">
      <h1 id="verify-title">Confirm your email</h1>
      {state === 'working' && <p role="status">Confirming…</p>}
      {state === 'done' && <p role="status">Your email address is confirmed.</p>}
      {state !== 'working' && state !== 'done' && (
        <p className="error" role="alert">
          {state}
        </p>
      )}
      <button type="button" onClick={onDone}>
        Continue
      </button>
    </section>
  );
}

function ResetPassword({ token, onDone }: { token: string; onDone: () => void }) {
  const { api } = useApp();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const ids = { pw: useId(), confirm: useId() };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password !== confirm) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.resetPassword(token, password);
      setDone(true);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  if (done) {
    return (
      <section aria-labelledby="reset-title">
        <h1 id="reset-title">Password changed</h1>
        <p role="status">
          Your password is changed and every session was signed out. Log in with the new password:
          with your recovery key you keep your identity and message keys; without it you start a new
          identity and your contacts see a new safety number.
        </p>
        <button type="button" onClick={onDone}>
          Go to log in
        </button>
      </section>
    );
  }
  return (
    <form onSubmit={submit} aria-labelledby="reset-title">
      <h1 id="reset-title">Choose a new password</h1>
      <div className="field">
        <label htmlFor={ids.pw}>New password</label>
        <input
          id={ids.pw}
          type="password"
          required
          minLength={10}
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.confirm}>Confirm new password</label>
        <input
          id={ids.confirm}
          type="password"
          required
          minLength={10}
          autoComplete="new-password"
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
        />
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Set new password'}
      </button>
    </form>
  );
}
