import { useState } from 'react';
import type { FormEvent } from 'react';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Field } from './AuthField.js';

/** Creates an account, then shows its recovery key (the app's next screen). */
export function SignUpForm() {
  const { api, dispatch } = useApp();
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
      setError('The two passwords differ.');
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
          ? 'This account could not be created. If you already have an account with this address, log in or reset your password: we have sent it an email.'
          : describeError(err),
      );
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-label="Sign up" role="tabpanel">
      <Field label="Email" type="email" value={email} onChange={setEmail} autoComplete="email" />
      <Field
        label="Username"
        value={username}
        onChange={setUsername}
        autoComplete="username"
        pattern="[A-Za-z0-9_.]{3,32}"
        hint="3-32 characters: letters, digits, _ or ."
      />
      <Field
        label="Display name"
        value={displayName}
        onChange={setDisplayName}
        autoComplete="name"
      />
      <Field
        label="Password"
        type="password"
        value={password}
        onChange={setPassword}
        autoComplete="new-password"
        minLength={10}
        hint="At least 10 characters. It never leaves this browser."
      />
      <Field
        label="Confirm password"
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
        {busy ? 'Creating your keys…' : 'Create account'}
      </button>
    </form>
  );
}
