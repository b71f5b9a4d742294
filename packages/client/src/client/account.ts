import * as opaque from '@serenity-kit/opaque';
import {
  Accepted,
  AuthResult,
  LoginFinishBody,
  LoginStartAnswer,
  LoginStartBody,
  PasswordChangeFinishBody,
  PasswordChangeStartBody,
  PasswordResetFinishBody,
  PasswordResetRequestBody,
  PasswordResetStartBody,
  RegisterFinishBody,
  RegisterStartBody,
  RegistrationStartAnswer,
  type Me,
} from '@cipherchat/contracts';
import { z } from 'zod';
import {
  BackupRefusedError,
  newKeyWraps,
  unwrapDataKey,
  wrapDataKey,
} from '../backup/key-backup.js';
import { generateRecoveryKey } from '../backup/recovery-key.js';
import { bytesEqual } from '../protocol/bytes.js';
import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import type { AccountSessions } from './account-session.js';
import type { LogInResult } from './client-types.js';
import type { SessionSlot } from './session.js';

/**
 * Checks a request body against the user-service contract before it leaves, so bad input
 * (malformed email, username) fails fast with the same code the server would use.
 */
function body<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({
      path: i.path.join('.'),
      message: i.message,
    }));
    throw new ApiError(
      400,
      'validation_error',
      details.map((d) => `${d.path}: ${d.message}`).join('; '),
      details,
    );
  }
  return parsed.data;
}

/** Input of a sign-up: account fields, password; `connect: false` to skip the socket. */
export interface SignUpInput {
  email: string;
  username: string;
  displayName: string;
  password: string;
  connect?: boolean;
}

/**
 * Input of a login: email and password; `recoveryKey` to open a backup sealed under an older
 * password; `startFresh` to abandon such a backup and create a new identity.
 */
export interface LogInInput {
  email: string;
  password: string;
  recoveryKey?: string;
  startFresh?: boolean;
  connect?: boolean;
}

/** Input of a password reset: token, new password; with `email` also a login. */
export interface ResetPasswordInput {
  token: string;
  newPassword: string;
  recoveryKey?: string;
  email?: string;
  connect?: boolean;
}

/** What {@link Account} needs. */
export interface AccountDeps {
  api: ApiClient;
  session: SessionSlot;
  sessions: AccountSessions;
  /** Runs once the account is open on this device (connect, resume the outgoing queue). */
  opened: (connect: boolean) => Promise<void>;
}

/** The account with user-service: sign-up, login, password change and reset (all OPAQUE). */
export class Account {
  /** @param deps collaborators */
  constructor(private readonly deps: AccountDeps) {}

  /**
   * Creates an account with OPAQUE, logs in, creates the identity and device keys, and uploads
   * the first key backup.
   * @param input account fields and password
   * @returns the user and the recovery key
   */
  async signUp(input: SignUpInput): Promise<{ user: Me; recoveryKey: string }> {
    const { api } = this.deps;
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
      password: input.password,
    });
    const { registrationResponse } = await api.request('user', 'POST', '/auth/register/start', {
      json: body(RegisterStartBody, {
        email: input.email,
        username: input.username,
        registrationRequest,
      }),
      schema: RegistrationStartAnswer,
      auth: false,
    });
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse,
      password: input.password,
    });
    // register/finish answers the same 202 for a free and a taken address (no enumeration) and
    // opens no session: log in with the same password. For a taken address that login fails
    // exactly like a wrong password (the owner is mailed); the export key is the registration's.
    await api.request('user', 'POST', '/auth/register/finish', {
      json: body(RegisterFinishBody, {
        email: input.email,
        username: input.username,
        displayName: input.displayName,
        registrationRecord,
      }),
      schema: Accepted,
      auth: false,
    });
    // A taken address fails here exactly like a wrong password (the registration said nothing).
    const { auth, exportKey: loginKey } = await this.opaqueLogin(input.email, input.password);
    if (loginKey !== exportKey)
      throw new ApiError(401, 'invalid_credentials', 'wrong email or password');
    const result = await this.deps.sessions.open(auth, exportKey, {});
    await this.deps.opened(input.connect ?? true);
    if (!result.recoveryKey)
      throw new Error('a new account must get a new identity and recovery key');
    return { user: result.user, recoveryKey: result.recoveryKey };
  }

  /**
   * Logs in with OPAQUE, then opens the identity and this device, and connects.
   * @param input email, password, and the backup options of {@link AccountSessions.open}
   * @returns the user and where the identity came from
   * @throws {ApiError} `invalid_credentials`
   */
  async logIn(input: LogInInput): Promise<LogInResult> {
    const { auth, exportKey } = await this.opaqueLogin(input.email, input.password);
    const result = await this.deps.sessions.open(auth, exportKey, input);
    await this.deps.opened(input.connect !== false);
    return result;
  }

  /**
   * The two OPAQUE login steps (the password never leaves this function).
   * @param email the account's address
   * @param password the password
   * @returns the session the server opened and the login's export key
   * @throws {ApiError} `invalid_credentials`
   */
  private async opaqueLogin(
    email: string,
    password: string,
  ): Promise<{ auth: AuthResult; exportKey: string }> {
    const { api } = this.deps;
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
    const { loginResponse } = await api.request('user', 'POST', '/auth/login/start', {
      json: body(LoginStartBody, { email, startLoginRequest }),
      schema: LoginStartAnswer,
      auth: false,
    });
    const finished = opaque.client.finishLogin({ clientLoginState, loginResponse, password });
    if (!finished) throw new ApiError(401, 'invalid_credentials', 'wrong email or password');
    const auth = await api.request('user', 'POST', '/auth/login/finish', {
      json: body(LoginFinishBody, { email, finishLoginRequest: finished.finishLoginRequest }),
      schema: AuthResult,
      auth: false,
    });
    return { auth, exportKey: finished.exportKey };
  }

  /**
   * Changes the password while logged in (OPAQUE re-registration) and re-keys the backup: a new
   * data key wrapped under the new export key and for the recovery key's lock, so the old
   * password and any older blob open nothing sealed from now on. The recovery key keeps working.
   * (A backup without a recovery lock yet, from format 1, keeps its data key and is re-wrapped.)
   * @param input the new password
   * @throws {BackupRefusedError} this device's backup key is stale (re-keyed elsewhere): log in again
   */
  async changePassword(input: { newPassword: string }): Promise<void> {
    const { api, session, sessions } = this.deps;
    const s = session.require();
    // In step with the server first: a device whose data key is stale must not change the
    // password (the backup would stay sealed under the old one).
    await s.backup.flush();
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
      password: input.newPassword,
    });
    const { registrationResponse } = await api.request('user', 'POST', '/me/password/start', {
      json: body(PasswordChangeStartBody, { registrationRequest }),
      schema: RegistrationStartAnswer,
    });
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse,
      password: input.newPassword,
    });
    const lock = s.wrappedKeys.recoveryLock;
    const next = lock
      ? await newKeyWraps(s.user.id, exportKey, { lock })
      : {
          dataKey: s.dataKey,
          wrappedKeys: {
            ...s.wrappedKeys,
            password: await wrapDataKey(s.dataKey, 'password', exportKey, s.user.id),
          },
        };
    await api.request('user', 'POST', '/me/password/finish', {
      json: body(PasswordChangeFinishBody, { registrationRecord }),
    });
    s.dataKey = next.dataKey;
    s.wrappedKeys = next.wrappedKeys;
    s.exportKey = exportKey;
    s.backup.setKeys(next.dataKey, next.wrappedKeys);
    await sessions.saveBackupKey();
    await s.backup.flush();
  }

  /**
   * Replaces the recovery key: a new key and lock, and a new data key (wrapped under the current
   * password and the new lock), uploaded before it is returned. The old recovery key, with this
   * or any older blob, opens nothing sealed from now on.
   * @returns the new recovery key (show it once)
   * @throws {BackupRefusedError} `backup_key_changed` when this device's keys are stale (the
   *   password was changed elsewhere, or it was never entered here): log in again
   */
  async rotateRecoveryKey(): Promise<string> {
    const { session, sessions } = this.deps;
    const s = session.require();
    await s.backup.flush();
    // The password wrap is remade from the export key of the last password entry here, so that
    // must still be the current password's: it must open the current wrap to this data key.
    const current = s.exportKey
      ? await unwrapDataKey(s.wrappedKeys, s.user.id, 'password', s.exportKey).catch(
          () => undefined,
        )
      : undefined;
    if (!current || !(await sameKey(current, s.dataKey)))
      throw new BackupRefusedError('backup_key_changed');
    const recoveryKey = generateRecoveryKey();
    const next = await newKeyWraps(s.user.id, s.exportKey, { recoveryKey });
    const before = { dataKey: s.dataKey, wrappedKeys: s.wrappedKeys };
    s.backup.setKeys(next.dataKey, next.wrappedKeys);
    try {
      await s.backup.flush();
    } catch (err) {
      // Not uploaded: keep the keys the server holds (the new recovery key is never shown).
      s.backup.setKeys(before.dataKey, before.wrappedKeys, false);
      throw err;
    }
    s.dataKey = next.dataKey;
    s.wrappedKeys = next.wrappedKeys;
    await sessions.saveBackupKey();
    return recoveryKey;
  }

  /**
   * Confirms the email address with the token from the verification link.
   * @param token the token from the emailed link
   */
  async verifyEmail(token: string): Promise<void> {
    await this.deps.api.request('user', 'POST', '/auth/verify-email', {
      json: { token },
      auth: false,
    });
  }

  /**
   * Asks for a password-reset email.
   * @param email the account's address
   */
  async requestPasswordReset(email: string): Promise<void> {
    await this.deps.api.request('user', 'POST', '/auth/password-reset/request', {
      json: body(PasswordResetRequestBody, { email }),
      auth: false,
    });
  }

  /**
   * Sets a new password with the emailed token (OPAQUE re-registration). With `email`, also logs
   * in: with the recovery key the identity is restored from the backup (and re-wrapped under the
   * new password); without it a new identity is started and contacts see a safety-number change.
   * @param input token, new password, recovery key, email
   * @returns the login result when `email` was given
   */
  async resetPassword(input: ResetPasswordInput): Promise<LogInResult | undefined> {
    const { api } = this.deps;
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
      password: input.newPassword,
    });
    const { registrationResponse } = await api.request(
      'user',
      'POST',
      '/auth/password-reset/start',
      {
        json: body(PasswordResetStartBody, { token: input.token, registrationRequest }),
        schema: RegistrationStartAnswer,
        auth: false,
      },
    );
    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse,
      password: input.newPassword,
    });
    await api.request('user', 'POST', '/auth/password-reset/finish', {
      json: body(PasswordResetFinishBody, { token: input.token, registrationRecord }),
      auth: false,
    });
    if (!input.email) return undefined;
    return this.logIn({
      email: input.email,
      password: input.newPassword,
      ...(input.recoveryKey ? { recoveryKey: input.recoveryKey } : { startFresh: true }),
      ...(input.connect === undefined ? {} : { connect: input.connect }),
    });
  }
}

async function sameKey(a: CryptoKey, b: CryptoKey): Promise<boolean> {
  const raw = (k: CryptoKey) => globalThis.crypto.subtle.exportKey('raw', k);
  return bytesEqual(await raw(a), await raw(b));
}
