import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  DirectoryQuery,
  LoginFinishBody,
  LoginStartBody,
  PasswordChangeFinishBody,
  PasswordChangeStartBody,
  PasswordResetFinishBody,
  PasswordResetRequestBody,
  PasswordResetStartBody,
  RefreshBody,
  RegisterFinishBody,
  RegisterStartBody,
  UpdateMeBody,
  VerifyEmailBody,
} from '@cipherchat/contracts';
import { z as zod } from 'zod';
import type { App } from '../src/app.js';
import { countRows } from '../src/store/user.repository.js';
import { listMountedRoutes, routeKey } from '@cipherchat/service-kit/testing';
import { call, createHarness, login, newAccount, register, type Harness } from './support/harness.js';

const EmptyBody = zod.union([zod.undefined(), zod.strictObject({})]);
/** Runs per property (raise with FUZZ_RUNS=500 for a longer hunt). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const b64 = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo';

interface RouteSpec {
  method: string;
  path: string;
  schema: z.ZodType;
  template: Record<string, unknown>;
  auth: boolean;
}

const routes: RouteSpec[] = [
  { method: 'POST', path: '/auth/register/start', schema: RegisterStartBody, template: { email: 'a@example.test', username: 'abc', registrationRequest: b64 }, auth: false },
  {
    method: 'POST',
    path: '/auth/register/finish',
    schema: RegisterFinishBody,
    template: { email: 'a@example.test', username: 'abc', displayName: 'A', registrationRecord: b64 },
    auth: false,
  },
  { method: 'POST', path: '/auth/login/start', schema: LoginStartBody, template: { email: 'a@example.test', startLoginRequest: b64 }, auth: false },
  { method: 'POST', path: '/auth/login/finish', schema: LoginFinishBody, template: { email: 'a@example.test', finishLoginRequest: b64 }, auth: false },
  { method: 'POST', path: '/auth/refresh', schema: RefreshBody, template: { refreshToken: 'abc' }, auth: false },
  { method: 'POST', path: '/auth/logout', schema: RefreshBody, template: { refreshToken: 'abc' }, auth: false },
  { method: 'POST', path: '/auth/logout-all', schema: RefreshBody, template: { refreshToken: 'abc' }, auth: true },
  { method: 'POST', path: '/auth/verify-email', schema: VerifyEmailBody, template: { token: 'abc' }, auth: false },
  { method: 'POST', path: '/auth/password-reset/request', schema: PasswordResetRequestBody, template: { email: 'a@example.test' }, auth: false },
  { method: 'POST', path: '/auth/password-reset/start', schema: PasswordResetStartBody, template: { token: 'abc', registrationRequest: b64 }, auth: false },
  { method: 'POST', path: '/auth/password-reset/finish', schema: PasswordResetFinishBody, template: { token: 'abc', registrationRecord: b64 }, auth: false },
  { method: 'POST', path: '/me/password/start', schema: PasswordChangeStartBody, template: { registrationRequest: b64 }, auth: true },
  { method: 'POST', path: '/me/password/finish', schema: PasswordChangeFinishBody, template: { registrationRecord: b64 }, auth: true },
  { method: 'PATCH', path: '/me', schema: UpdateMeBody, template: { displayName: 'X', username: 'xyz' }, auth: true },
  { method: 'DELETE', path: '/me', schema: EmptyBody, template: {}, auth: true },
  { method: 'POST', path: '/me/verify-email', schema: EmptyBody, template: {}, auth: true },
  { method: 'POST', path: '/me/sessions/revoke-others', schema: EmptyBody, template: {}, auth: true },
];

/** Bodies that are malformed by construction: junk, or a valid template with one thing broken. */
const junkValue = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 1100, maxLength: 1500 }),
  fc.constantFrom('', ' ', '\u0000', '../../etc/passwd', "' OR 1=1--", '<script>', 'a@b', '==', 'é'.repeat(300)),
  fc.integer(),
  fc.constant(null),
);
const mutatedBody = (template: Record<string, unknown>) =>
  fc.oneof(
    fc.anything({ maxDepth: 3 }),
    fc.dictionary(fc.string({ maxLength: 12 }), junkValue, { maxKeys: 5 }),
    // drop a field
    fc.constantFrom(...(Object.keys(template).length ? Object.keys(template) : ['x'])).map((k) => {
      const copy: Record<string, unknown> = { ...template };
      delete copy[k];
      return copy;
    }),
    // replace a field with junk
    fc.tuple(fc.constantFrom(...(Object.keys(template).length ? Object.keys(template) : ['x'])), junkValue).map(([k, v]) => ({ ...template, [k]: v })),
    // add an unknown field (strict schemas refuse it)
    fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), junkValue).map(([k, v]) => ({ ...template, [`x_${k}`]: v })),
  );

describe('every route answers random and malformed input with a 4xx and a message, never a 500, and changes nothing', () => {
  let h: Harness;
  let base: string;
  let app: App;
  let token: string;

  beforeAll(async () => {
    h = await createHarness('fuzz');
    ({ url: base, app } = await h.startApp());
    const acc = newAccount('fuzz');
    await register(base, acc);
    token = (await login(base, acc)).finish!.body.accessToken;
  });
  afterAll(async () => {
    await h?.close();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any JSON answer
  const assertClientError = (res: { status: number; body: any; raw: string }, context: unknown) => {
    if (res.status < 400 || res.status >= 500) throw new Error(`expected 4xx for ${JSON.stringify(context)?.slice(0, 300)}, got ${res.status} ${res.raw.slice(0, 300)}`);
    expect(typeof res.body?.error?.code).toBe('string');
    expect(res.body.error.message.length).toBeGreaterThan(0);
  };

  for (const route of routes) {
    it(`when ${route.method} ${route.path} gets malformed bodies, then it answers 4xx and no row changes`, async () => {
      const before = await countRows(app.ds.manager);
      const headers: Record<string, string> = route.auth ? { authorization: `Bearer ${token}` } : {};
      let tried = 0;
      await fc.assert(
        fc.asyncProperty(mutatedBody(route.template), async (body) => {
          // classify what actually goes over the wire (JSON drops undefined members)
          const text = JSON.stringify(body) ?? 'null';
          if (route.schema.safeParse(JSON.parse(text)).success) return; // a valid body is not this test's business
          tried += 1;
          const res = await call(base, route.method, route.path, text, headers);
          assertClientError(res, body);
        }),
        { numRuns: RUNS },
      );
      // raw bytes that are not JSON at all
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 200 }), async (raw) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(raw);
          } catch {
            parsed = Symbol('invalid');
          }
          if (typeof parsed !== 'symbol' && route.schema.safeParse(parsed).success) return;
          const res = await call(base, route.method, route.path, raw, headers);
          assertClientError(res, raw);
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
      expect(tried).toBeGreaterThan(20);
      expect(await countRows(app.ds.manager)).toEqual(before);
    });
  }

  it('when the directory gets random query strings and ids, then it answers 4xx or a page, never a 500, and changes nothing', async () => {
    const before = await countRows(app.ds.manager);
    const auth = { authorization: `Bearer ${token}` };
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('query', 'limit', 'cursor', 'x', 'query[]'), fc.string({ maxLength: 80 }), { maxKeys: 4 }),
        async (params) => {
          const qs = new URLSearchParams(params).toString();
          const res = await call(base, 'GET', `/users?${qs}`, undefined, auth);
          if (DirectoryQuery.safeParse(params).success && res.status === 200) {
            expect(res.raw).not.toContain('@example.test');
            return;
          }
          assertClientError(res, params);
        },
      ),
      { numRuns: RUNS },
    );
    await fc.assert(
      // '.' and '..' are path segments the URL parser resolves away before the request is sent
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 60 }).filter((id) => id !== '.' && id !== '..'), async (id) => {
        const res = await call(base, 'GET', `/users/${encodeURIComponent(id)}`, undefined, auth);
        assertClientError(res, id);
        const del = await call(base, 'DELETE', `/me/sessions/${encodeURIComponent(id)}`, undefined, auth);
        assertClientError(del, id);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    expect(await countRows(app.ds.manager)).toEqual(before);
  });

  it('when OPAQUE fields are well-formed base64 but cryptographic junk, then the answer is 4xx and no account, session or event appears', async () => {
    const before = await countRows(app.ds.manager);
    const auth = { authorization: `Bearer ${token}` };
    const junk = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64url')).filter((t) => t.length > 0);
    await fc.assert(
      fc.asyncProperty(junk(1, 190), junk(1, 380), fc.integer({ min: 0, max: 9999 }), async (request, record, n) => {
        const email = `junk${n}@example.test`;
        const username = `junk${n}`;
        for (const [path, body, headers] of [
          ['/auth/register/start', { email, username, registrationRequest: request }, {}],
          ['/auth/register/finish', { email, username, displayName: 'J', registrationRecord: record }, {}],
          ['/me/password/start', { registrationRequest: request }, auth],
          ['/me/password/finish', { registrationRecord: record }, auth],
          ['/auth/password-reset/finish', { token: request, registrationRecord: record }, {}],
        ] as const) {
          const res = await call(base, 'POST', path, body, headers);
          // random bytes can happen to be a valid group element for registration requests: 200 is then correct
          if (path.endsWith('/start') && res.status === 200) continue;
          assertClientError(res, { path, body });
        }
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    expect(await countRows(app.ds.manager)).toEqual(before);
  });

  /** Routes without a body, fuzzed through their params and query strings below. */
  const READS = [
    'GET /api/user/.well-known/jwks.json',
    'GET /api/user/me',
    'GET /api/user/me/export',
    'GET /api/user/me/sessions',
    'GET /api/user/users',
    'GET /api/user/users/:id',
    'DELETE /api/user/me/sessions/:sessionId',
  ];

  it('when the app is running, then every mounted API route is fuzzed in this file', () => {
    const fuzzed = new Set([...routes.map((r) => `${r.method} /api/user${r.path}`), ...READS]);
    const mounted = listMountedRoutes(app.http).map(routeKey).filter((k) => k.split(' ')[1]?.startsWith('/api/user'));
    expect(mounted.filter((k) => !fuzzed.has(k))).toEqual([]);
    expect([...fuzzed].filter((k) => !mounted.includes(k))).toEqual([]);
  });

  it('when reads get hostile query strings, then they answer 200 or a 4xx, never a 500, and change nothing', async () => {
    const before = await countRows(app.ds.manager);
    const auth = { authorization: `Bearer ${token}` };
    const keys = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'query[]'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/.well-known/jwks.json', '/me', '/me/export', '/me/sessions'),
        fc.dictionary(keys, fc.string({ maxLength: 200 }), { maxKeys: 4 }),
        async (path, params) => {
          const res = await call(base, 'GET', `${path}?${new URLSearchParams(params).toString()}`, undefined, auth);
          if (res.status !== 200) assertClientError(res, { path, params });
        },
      ),
      { numRuns: RUNS },
    );
    expect(await countRows(app.ds.manager)).toEqual(before);
  });

  it('when bodies are too large or not JSON, then the answer is 413 or 400/415 with a message', async () => {
    const big = await call(base, 'POST', '/auth/login/start', { email: 'a@example.test', startLoginRequest: 'A'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const text = await fetch(`${base}/api/user/auth/login/start`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(text.status).toBe(400);
    const bad = await call(base, 'POST', '/auth/login/start', '{"email":');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_json');
  });
});
