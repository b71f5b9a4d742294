import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, createMetrics, createLogger, parseConfig } from '@cipherchat/service-kit';
import { LogCapture, uniqueSuffix } from '@cipherchat/service-kit/testing';
import { configSchema as userConfigSchema, createApp as createUserApp, type App as UserApp } from '@cipherchat/user-service';
import { testEnv } from '@cipherchat/user-service/testing';
import { startHarness, type Harness } from './support/harness.js';

// The real user-service, in-process, on the same database and exchange: registration goes
// through OPAQUE, its outbox publishes the events, this service mails, the link verifies.
let h: Harness;
let userApp: UserApp;
let userBase: string;

beforeAll(async () => {
  h = await startHarness();
  const env = await testEnv({ databaseUrl: h.db.url, exchange: h.config.BUS_EXCHANGE, overrides: { LOG_LEVEL: 'warn' } });
  userApp = await createUserApp(parseConfig(userConfigSchema, env), {
    logger: createLogger('user-service', 'warn', new LogCapture()),
    metrics: createMetrics('user-service', false),
  });
  userBase = `http://127.0.0.1:${await userApp.listen(0)}`;
  h.useVerifier(createTokenVerifier(userApp.jwks));
});
afterAll(async () => {
  await userApp?.close();
  await h?.cleanup();
});

/** The parts of user-service answers this test reads. */
interface UserAnswer {
  registrationResponse: string;
  loginResponse: string;
  accessToken: string;
  refreshToken: string;
  user: { emailVerified: boolean };
}

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: UserAnswer }> {
  const res = await fetch(`${userBase}/api/user${path}`, {
    method,
    headers: {
      'x-client': 'cli',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as UserAnswer };
}

/** A fresh account's credentials. */
function newAccount() {
  const id = `n${uniqueSuffix()}`;
  return { email: `${id}@example.test`, username: id, password: `pw-${uniqueSuffix()}-${uniqueSuffix()}` };
}

/** Registers through OPAQUE (202, no session). */
async function register(acc: ReturnType<typeof newAccount>, displayName: string): Promise<void> {
  await opaque.ready;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password: acc.password });
  const start = await call('POST', '/auth/register/start', { email: acc.email, username: acc.username, registrationRequest });
  expect(start.status).toBe(200);
  const { registrationRecord } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse: start.body.registrationResponse, password: acc.password });
  const finish = await call('POST', '/auth/register/finish', { email: acc.email, username: acc.username, displayName, registrationRecord });
  expect(finish.status).toBe(202);
}

/** Logs in through OPAQUE. */
async function login(acc: ReturnType<typeof newAccount>): Promise<UserAnswer> {
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password: acc.password });
  const ls = await call('POST', '/auth/login/start', { email: acc.email, startLoginRequest });
  const done = opaque.client.finishLogin({ clientLoginState, loginResponse: ls.body.loginResponse, password: acc.password });
  const lf = await call('POST', '/auth/login/finish', { email: acc.email, finishLoginRequest: done!.finishLoginRequest });
  expect(lf.status).toBe(200);
  return lf.body;
}

/** GET /preferences with a bearer token: status and error code. */
async function preferencesWith(token: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${h.baseUrl}/api/notifications/preferences`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { error?: { code?: string } };
  return { status: res.status, code: body.error?.code };
}

describe('session revocation (issue 15)', () => {
  it('when a user logs out, then the very next request with that access token is refused 401 session_revoked (well within 5 s), and their other session still works', async () => {
    const acc = newAccount();
    await register(acc, 'Rita');
    const first = await login(acc);
    const second = await login(acc);
    expect(await preferencesWith(first.accessToken)).toEqual({ status: 200, code: undefined });

    const out = await fetch(`${userBase}/api/user/auth/logout`, {
      method: 'POST',
      headers: { 'x-client': 'cli', 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: first.refreshToken }),
    });
    expect(out.status).toBe(204);

    // user-service puts the session on the Redis list before answering the logout: no wait, no cache here
    expect(await preferencesWith(first.accessToken)).toEqual({ status: 401, code: 'session_revoked' });
    const put = await fetch(`${h.baseUrl}/api/notifications/preferences`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${first.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: { digest: false } }),
    });
    expect(put.status).toBe(401);
    expect(await preferencesWith(second.accessToken)).toEqual({ status: 200, code: undefined });
  });
});

describe('with the real user-service', () => {
  it('when someone registers, then a verification mail arrives whose link verifies the account; the next login brings the welcome and a sign-in alert', async () => {
    await opaque.ready;
    const id = `n${uniqueSuffix()}`;
    const acc = { email: `${id}@example.test`, username: id, password: `pw-${uniqueSuffix()}-${uniqueSuffix()}` };

    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password: acc.password });
    const start = await call('POST', '/auth/register/start', { email: acc.email, username: acc.username, registrationRequest });
    expect(start.status).toBe(200);
    const { registrationRecord } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse: start.body.registrationResponse, password: acc.password });
    const finish = await call('POST', '/auth/register/finish', { email: acc.email, username: acc.username, displayName: 'Nora', registrationRecord });
    expect(finish.status).toBe(202); // the same answer for a taken address; no session (the client logs in next)

    const [mail] = await h.inbox.waitFor((m) => m.to === acc.email);
    expect(mail!.subject).toBe('Confirm your email address for CipherChat');
    expect(mail!.text).toContain('Hello Nora,');
    const link = /Confirm my address: (\S+)/.exec(mail!.text)?.[1];
    expect(link).toMatch(/^http:\/\/localhost:8080\/verify-email\?token=[A-Za-z0-9_-]+$/);
    expect(mail!.html).toContain(`href="${link}"`);
    const token = new URL(link!).searchParams.get('token');

    // the link's token verifies the account at user-service
    expect((await call('POST', '/auth/verify-email', { token })).status).toBe(204);

    // the next sign-in says "verified": welcome + new sign-in alert, nothing else
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password: acc.password });
    const ls = await call('POST', '/auth/login/start', { email: acc.email, startLoginRequest });
    const done = opaque.client.finishLogin({ clientLoginState, loginResponse: ls.body.loginResponse, password: acc.password });
    const lf = await call('POST', '/auth/login/finish', { email: acc.email, finishLoginRequest: done!.finishLoginRequest });
    expect(lf.status).toBe(200);
    expect(lf.body.user.emailVerified).toBe(true);
    const mails = await h.inbox.waitFor((m) => m.to === acc.email, 3);
    expect(mails.map((m) => m.subject).sort()).toEqual([
      'Confirm your email address for CipherChat',
      'New sign-in to your CipherChat account',
      'Welcome to CipherChat',
    ]);

    // user-service's access token works on this service (JWKS, ES256)
    const prefs = await fetch(`${h.baseUrl}/api/notifications/preferences`, { headers: { authorization: `Bearer ${lf.body.accessToken}` } });
    expect(prefs.status).toBe(200);
    expect(await prefs.json()).toMatchObject({ email: { welcome: true, newLogin: true, digest: true }, digestContent: 'sender' });

    // no link token in this service's tables or logs
    const dump = JSON.stringify(await h.app.ds.query(`SELECT * FROM notify.sent_mail`)) + JSON.stringify(await h.app.ds.query(`SELECT * FROM notify.users`));
    expect(dump).not.toContain(token!);
    expect(h.logs.text()).not.toContain(token!);
  });
});
