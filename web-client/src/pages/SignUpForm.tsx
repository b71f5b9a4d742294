import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Field } from './AuthField.js';

/** Creates an account, then shows its recovery key (the app's next screen). */
export function SignUpForm() {
  const { api, dispatch } = useApp();
  const { t } = useTranslation('auth');
  const [email, setEmail] = useState('');
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password !== confirm) {
      setError(t('passwordsDiffer'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { me, recoveryKey } = await api.signUp({ email, username, displayName, password });
      dispatch({ type: 'signedUp', me, recoveryKey });
    } catch (err) {
      // The server answers a free and a taken address alike; only the login that follows fails
      // for a taken one. Say what the owner of such an address should do, without saying it is.
      setError(
        err instanceof Error && 'code' in err && err.code === 'invalid_credentials'
          ? t('signUp.notCreated')
          : describeError(err),
      );
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-label={t('signUp.form')} role="tabpanel">
      <Field
        label={t('signUp.email')}
        type="email"
        value={email}
        onChange={setEmail}
        autoComplete="email"
      />
      <Field
        label={t('signUp.username')}
        value={username}
        onChange={setUsername}
        autoComplete="username"
        pattern="[A-Za-z0-9_.]{3,32}"
        hint={t('signUp.usernameHint')}
      />
      <Field
        label={t('signUp.displayName')}
        value={displayName}
        onChange={setDisplayName}
        autoComplete="name"
      />
      <Field
        label={t('signUp.password')}
        type="password"
        value={password}
        onChange={setPassword}
        autoComplete="new-password"
        minLength={10}
        hint={t('signUp.passwordHint')}
      />
      <Field
        label={t('signUp.confirm')}
        type="password"
        value={confirm}
        onChange={setConfirm}
        autoComplete="new-password"
        minLength={10}
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? t('signUp.creating') : t('signUp.submit')}
      </button>
    </form>
  );
}
