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
import { wrapDataKey } from '../backup/key-backup.js';
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
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({
      password: input.password,
    });
    const { loginResponse } = await api.request('user', 'POST', '/auth/login/start', {
      json: body(LoginStartBody, { email: input.email, startLoginRequest }),
      schema: LoginStartAnswer,
      auth: false,
    });
    const finished = opaque.client.finishLogin({
      clientLoginState,
      loginResponse,
      password: input.password,
    });
    if (!finished || finished.exportKey !== exportKey)
      throw new ApiError(401, 'invalid_credentials', 'wrong email or password');
    const auth = await api.request('user', 'POST', '/auth/login/finish', {
      json: body(LoginFinishBody, {
        email: input.email,
        finishLoginRequest: finished.finishLoginRequest,
      }),
      schema: AuthResult,
      auth: false,
    });
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
    const { api } = this.deps;
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({
      password: input.password,
    });
    const { loginResponse } = await api.request('user', 'POST', '/auth/login/start', {
      json: body(LoginStartBody, { email: input.email, startLoginRequest }),
      schema: LoginStartAnswer,
      auth: false,
    });
    const finished = opaque.client.finishLogin({
      clientLoginState,
      loginResponse,
      password: input.password,
    });
    if (!finished) throw new ApiError(401, 'invalid_credentials', 'wrong email or password');
    const auth = await api.request('user', 'POST', '/auth/login/finish', {
      json: body(LoginFinishBody, {
        email: input.email,
        finishLoginRequest: finished.finishLoginRequest,
      }),
      schema: AuthResult,
      auth: false,
    });
    const result = await this.deps.sessions.open(auth, finished.exportKey, input);
    await this.deps.opened(input.connect !== false);
    return result;
  }

  /**
   * Changes the password while logged in (OPAQUE re-registration) and re-wraps the backup's data
   * key under the new export key. The recovery key keeps working.
   * @param input the new password
   */
  async changePassword(input: { newPassword: string }): Promise<void> {
    const { api, session, sessions } = this.deps;
    const s = session.require();
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
    const wrappedKeys = {
      ...s.wrappedKeys,
      password: await wrapDataKey(s.dataKey, 'password', exportKey, s.user.id),
    };
    await api.request('user', 'POST', '/me/password/finish', {
      json: body(PasswordChangeFinishBody, { registrationRecord }),
    });
    s.wrappedKeys = wrappedKeys;
    s.exportKey = exportKey;
    s.backup.setWrappedKeys(wrappedKeys);
    await sessions.saveBackupKey();
    await s.backup.flush();
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
