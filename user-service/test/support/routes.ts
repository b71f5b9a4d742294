import * as opaque from '@serenity-kit/opaque';
import { randomBytes, randomUUID } from 'node:crypto';
import { type Answer, type Caller } from '@cipherchat/service-kit/testing';
import { call, newAccount, type Account } from './harness.js';

// The route table of user-service (issue 15, deliverable 10): every mounted route, the request a
// caller makes with their own credentials, and the answer each caller gets.
// test/authz-matrix.int.test.ts fails when a mounted route has no row here (or a row names a
// route that is not mounted). Adding a route = adding a row.

/** One signed-in person: account, access and refresh token, session id. */
export interface Person {
  acc: Account;
  userId: string;
  access: string;
  refresh: string;
  sessionId: string;
}

/** What one row's cells act on. */
export interface World {
  base: string;
  owner: Person;
  /** A second session of the owner (the one revoked for the "revoked" caller). */
  other: Person;
  stranger: Person;
}

/** The credentials a caller holds: an access and a refresh token (none for anonymous). */
export interface Creds {
  access?: string;
  refresh?: string;
}

/** One request: path under the app, optional JSON body. */
export interface Req {
  path: string;
  body?: unknown;
}

/** One row of the table. */
export interface Row {
  method: string;
  /** The full mounted path pattern (`/api/user/me/sessions/:sessionId`). */
  path: string;
  /** The request a caller makes with their credentials (async: some need an OPAQUE round first). */
  req(w: World, c: Creds): Req | Promise<Req>;
  owner: Answer;
  stranger: Answer;
  /** Answers of the other callers when they differ from the defaults of {@link answerOf}. */
  anonymous?: Answer;
  whenRevoked?: Answer;
  deleted?: Answer;
}

const U = '/api/user';
const ok = (status = 200): Answer => ({ status });
const unauthorized: Answer = { status: 401, code: 'unauthorized' };
const ended: Answer = { status: 401, code: 'invalid_token' };
const bad: Answer = { status: 400, code: 'validation_error' };
const b64 = () => randomBytes(32).toString('base64url');

/** The expected answer of one cell. */
export function answerOf(row: Row, caller: Caller): Answer {
  switch (caller) {
    case 'owner':
      return row.owner;
    case 'stranger':
      return row.stranger;
    case 'anonymous':
      return row.anonymous ?? unauthorized;
    // user-service checks that the session is live on every request (its own sessions table):
    // a logged-out session's token gets 401 invalid_token
    case 'revoked':
      return row.whenRevoked ?? ended;
    case 'deleted':
      return row.deleted ?? ended;
  }
}

/** Rows whose answer does not depend on who calls (no token needed; a token changes nothing). */
const open = (method: string, path: string, req: Row['req'], answer: Answer): Row => ({
  method,
  path,
  req,
  owner: answer,
  stranger: answer,
  anonymous: answer,
  whenRevoked: answer,
  deleted: answer,
});

async function opaqueRegistrationRequest(): Promise<{ state: string; request: string }> {
  await opaque.ready;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
    password: `pw-${randomUUID()}`,
  });
  return { state: clientRegistrationState, request: registrationRequest };
}

async function opaqueLoginStart(): Promise<string> {
  await opaque.ready;
  return opaque.client.startLogin({ password: 'whatever-password' }).startLoginRequest;
}

/** A password change the caller can finish: start (with their token), then a real record. */
async function passwordRecord(w: World, c: Creds): Promise<string> {
  const password = `new-${randomUUID()}`;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
    password,
  });
  const start = await call(
    w.base,
    'POST',
    '/me/password/start',
    { registrationRequest },
    c.access ? { authorization: `Bearer ${c.access}` } : {},
  );
  if (start.status !== 200) return b64();
  return opaque.client.finishRegistration({
    clientRegistrationState,
    registrationResponse: start.body.registrationResponse,
    password,
  }).registrationRecord;
}

/** Every route user-service mounts, with its cells. */
export const rows: Row[] = [
  open('GET', '/health', () => ({ path: '/health' }), ok()),
  open('GET', '/ready', () => ({ path: '/ready' }), ok()),
  open('GET', '/metrics', () => ({ path: '/metrics' }), ok()),
  open('GET', `${U}/.well-known/jwks.json`, () => ({ path: '/.well-known/jwks.json' }), ok()),
  // sign-up and sign-in: anyone, with or without a token
  open(
    'POST',
    `${U}/auth/register/start`,
    async () => ({
      path: '/auth/register/start',
      body: {
        ...newAccount('m'),
        password: undefined,
        registrationRequest: (await opaqueRegistrationRequest()).request,
      },
    }),
    ok(),
  ),
  open(
    'POST',
    `${U}/auth/register/finish`,
    () => ({
      path: '/auth/register/finish',
      body: {
        ...newAccount('m'),
        password: undefined,
        displayName: 'M',
        registrationRecord: b64(),
      },
    }),
    bad,
  ),
  // a login start for the owner's address answers alike whether the account exists or was deleted
  open(
    'POST',
    `${U}/auth/login/start`,
    async (w) => ({
      path: '/auth/login/start',
      body: { email: w.owner.acc.email, startLoginRequest: await opaqueLoginStart() },
    }),
    ok(),
  ),
  open(
    'POST',
    `${U}/auth/login/finish`,
    (w) => ({
      path: '/auth/login/finish',
      body: { email: w.owner.acc.email, finishLoginRequest: b64() },
    }),
    { status: 401 },
  ),
  // a made-up link token
  open(
    'POST',
    `${U}/auth/verify-email`,
    () => ({ path: '/auth/verify-email', body: { token: b64() } }),
    ended,
  ),
  open(
    'POST',
    `${U}/auth/password-reset/request`,
    (w) => ({ path: '/auth/password-reset/request', body: { email: w.owner.acc.email } }),
    ok(202),
  ),
  open(
    'POST',
    `${U}/auth/password-reset/start`,
    async () => ({
      path: '/auth/password-reset/start',
      body: { token: b64(), registrationRequest: (await opaqueRegistrationRequest()).request },
    }),
    ended,
  ),
  open(
    'POST',
    `${U}/auth/password-reset/finish`,
    () => ({
      path: '/auth/password-reset/finish',
      body: { token: b64(), registrationRecord: b64() },
    }),
    { status: 400 },
  ),
  // refresh tokens: the caller's own
  {
    method: 'POST',
    path: `${U}/auth/refresh`,
    req: (_w, c) => ({ path: '/auth/refresh', body: c.refresh ? { refreshToken: c.refresh } : {} }),
    owner: ok(),
    stranger: ok(),
    anonymous: { status: 401, code: 'invalid_token' },
  },
  {
    method: 'POST',
    path: `${U}/auth/logout`,
    req: (_w, c) => ({ path: '/auth/logout', body: c.refresh ? { refreshToken: c.refresh } : {} }),
    owner: ok(204),
    stranger: ok(204),
    anonymous: ok(204),
    whenRevoked: ok(204),
    deleted: ok(204),
  },
  {
    method: 'POST',
    path: `${U}/auth/logout-all`,
    req: () => ({ path: '/auth/logout-all', body: {} }),
    owner: ok(204),
    stranger: ok(204),
  },
  // my account: the token says whose; the stranger gets their own, never the owner's
  { method: 'GET', path: `${U}/me`, req: () => ({ path: '/me' }), owner: ok(), stranger: ok() },
  {
    method: 'PATCH',
    path: `${U}/me`,
    req: () => ({ path: '/me', body: { displayName: 'Renamed' } }),
    owner: ok(),
    stranger: ok(),
  },
  {
    method: 'DELETE',
    path: `${U}/me`,
    req: () => ({ path: '/me' }),
    owner: ok(204),
    stranger: ok(204),
  },
  {
    method: 'GET',
    path: `${U}/me/export`,
    req: () => ({ path: '/me/export' }),
    owner: ok(),
    stranger: ok(),
  },
  {
    method: 'POST',
    path: `${U}/me/verify-email`,
    req: () => ({ path: '/me/verify-email' }),
    owner: ok(202),
    stranger: ok(202),
  },
  {
    method: 'POST',
    path: `${U}/me/password/start`,
    req: async () => ({
      path: '/me/password/start',
      body: { registrationRequest: (await opaqueRegistrationRequest()).request },
    }),
    owner: ok(),
    stranger: ok(),
  },
  {
    method: 'POST',
    path: `${U}/me/password/finish`,
    req: async (w, c) => ({
      path: '/me/password/finish',
      body: { registrationRecord: await passwordRecord(w, c) },
    }),
    owner: ok(204),
    stranger: ok(204),
  },
  {
    method: 'GET',
    path: `${U}/me/sessions`,
    req: () => ({ path: '/me/sessions' }),
    owner: ok(),
    stranger: ok(),
  },
  {
    method: 'POST',
    path: `${U}/me/sessions/revoke-others`,
    req: () => ({ path: '/me/sessions/revoke-others' }),
    owner: ok(),
    stranger: ok(),
  },
  // the owner's other session: the stranger cannot end it (404, as for a session that does not exist)
  {
    method: 'DELETE',
    path: `${U}/me/sessions/:sessionId`,
    req: (w) => ({ path: `/me/sessions/${w.other.sessionId}` }),
    owner: ok(204),
    stranger: { status: 404, code: 'not_found' },
  },
  // the directory: signed-in users only, never an email
  {
    method: 'GET',
    path: `${U}/users`,
    req: (w) => ({ path: `/users?query=${encodeURIComponent(w.owner.acc.username)}` }),
    owner: ok(),
    stranger: ok(),
  },
  {
    method: 'GET',
    path: `${U}/users/:id`,
    req: (w) => ({ path: `/users/${w.owner.userId}` }),
    owner: ok(),
    stranger: ok(),
  },
];
