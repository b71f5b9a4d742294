import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
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
  const { t } = useTranslation('auth');
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
      <h1 id="verify-title">{t('verify.title')}</h1>
      {state === 'working' && <p role="status">{t('verify.working')}</p>}
      {state === 'done' && <p role="status">{t('verify.done')}</p>}
      {state !== 'working' && state !== 'done' && (
        <p className="error" role="alert">
          {state}
        </p>
      )}
      <button type="button" onClick={onDone}>
        {t('continue')}
      </button>
    </section>
  );
}

function ResetPassword({ token, onDone }: { token: string; onDone: () => void }) {
  const { api } = useApp();
  const { t } = useTranslation('auth');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const ids = { pw: useId(), confirm: useId() };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password !== confirm) {
      setError(t('passwordsDiffer'));
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
        <h1 id="reset-title">{t('reset.doneTitle')}</h1>
        <p role="status">{t('reset.doneBody')}</p>
        <button type="button" onClick={onDone}>
          {t('reset.goToLogin')}
        </button>
      </section>
    );
  }
  return (
    <form onSubmit={submit} aria-labelledby="reset-title">
      <h1 id="reset-title">{t('reset.title')}</h1>
      <div className="field">
        <label htmlFor={ids.pw}>{t('reset.password')}</label>
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
        <label htmlFor={ids.confirm}>{t('reset.confirm')}</label>
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
        {busy ? t('reset.saving') : t('reset.submit')}
      </button>
    </form>
  );
}
