import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { AuthResult, DataExport, DirectoryPage, Me, MySessions } from '@cipherchat/contracts';
import {
  call,
  createHarness,
  login,
  newAccount,
  register,
  registerOnly,
  tokenOf,
  type Account,
  type Harness,
} from './support/harness.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('user-service accounts and login (real PostgreSQL, RabbitMQ, Redis)', () => {
  let h: Harness;
  let base: string;
  let app: App;
  const timings: Record<string, number[]> = { register: [], login: [] };

  beforeAll(async () => {
    h = await createHarness('flow');
    ({ url: base, app } = await h.startApp());
  });
  afterAll(async () => {
    const avg = (xs: number[]) =>
      xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : 0;
    // Numbers for the report (bench/ owns real measurements); never asserted.
    console.info(
      `[user-service timings] register avg ${avg(timings.register!)} ms (n=${timings.register!.length}), login avg ${avg(timings.login!)} ms (n=${timings.login!.length})`,
    );
    await h?.close();
  });

  const timedRegister = async (acc: Account, headers?: Record<string, string>) => {
    const t0 = performance.now();
    const r = await register(base, acc, headers);
    timings.register!.push(performance.now() - t0);
    return r;
  };
  const timedLogin = async (acc: Account, headers?: Record<string, string>) => {
    const t0 = performance.now();
    const r = await login(base, acc, headers);
    timings.login!.push(performance.now() - t0);
    return r;
  };

  it('when a client registers, verifies, logs in, refreshes and logs out, then every step works without sending the password', async () => {
    const acc = newAccount('flow');
    const reg = await timedRegister(acc);
    expect(reg.status).toBe(200);
    expect(reg.body.user).toMatchObject({
      email: acc.email,
      username: acc.username,
      emailVerified: false,
    });
    const userId = reg.body.user.id as string;
    await h.waitForEvent('user.registered.v1', (e) => e.payload.userId === userId);

    const verifyEvent = await h.waitForEvent(
      'user.email_verification_requested.v1',
      (e) => e.payload.userId === userId,
    );
    const token = tokenOf(verifyEvent.payload.verifyUrl);
    expect(String(verifyEvent.payload.verifyUrl)).toMatch(
      /^http:\/\/localhost:8080\/verify-email\?token=[A-Za-z0-9_-]{43}$/,
    );
    expect((await call(base, 'POST', '/auth/verify-email', { token })).status).toBe(204);
    const again = await call(base, 'POST', '/auth/verify-email', { token });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('invalid_token');
    const verified = await h.waitForEvent(
      'user.profile_updated.v1',
      (e) => e.payload.userId === userId,
    );
    expect(verified.payload).toMatchObject({ email: acc.email, emailVerified: true });

    const { finish } = await timedLogin(acc);
    expect(finish?.status).toBe(200);
    expect(finish?.body.user.emailVerified).toBe(true);
    AuthResult.parse(finish?.body);
    AuthResult.parse(reg.body);
    expect(finish?.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const newLogin = await h.waitForEvent(
      'user.new_login.v1',
      (e) => e.payload.emailVerified === true && e.payload.userId === userId,
    );
    expect(newLogin.payload.emailVerified).toBe(true);
    const me = await call(base, 'GET', '/me', undefined, bearer(finish?.body.accessToken));
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(acc.email);
    Me.parse(me.body);

    const refreshed = await call(base, 'POST', '/auth/refresh', {
      refreshToken: finish?.body.refreshToken,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(finish?.body.refreshToken);

    expect(
      (await call(base, 'POST', '/auth/logout', { refreshToken: refreshed.body.refreshToken }))
        .status,
    ).toBe(204);
    expect(
      (await call(base, 'POST', '/auth/refresh', { refreshToken: refreshed.body.refreshToken }))
        .status,
    ).toBe(401);
    // user-service itself checks the session: the access token of an ended session is refused here at once
    expect(
      (await call(base, 'GET', '/me', undefined, bearer(refreshed.body.accessToken))).status,
    ).toBe(401);
  });

  it('when the login does not wait for verification, then an unverified user logs in and new_login says unverified', async () => {
    const acc = newAccount('unv');
    const reg = await timedRegister(acc);
    const { finish } = await timedLogin(acc);
    expect(finish?.status).toBe(200);
    expect(finish?.body.user.emailVerified).toBe(false);
    const ev = await h.waitForEvent(
      'user.new_login.v1',
      (e) => e.payload.userId === reg.body.user.id,
    );
    expect(ev.payload.emailVerified).toBe(false);
  });

  it('when the password is wrong, then the client cannot finish and a forged finish is refused', async () => {
    const acc = newAccount('wrong');
    await timedRegister(acc);
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({
      password: 'not-the-password',
    });
    const start = await call(base, 'POST', '/auth/login/start', {
      email: acc.email,
      startLoginRequest,
    });
    expect(start.status).toBe(200);
    const done = opaque.client.finishLogin({
      clientLoginState,
      loginResponse: start.body.loginResponse,
      password: 'not-the-password',
    });
    expect(done).toBeUndefined();
    // a client that sends something anyway: random bytes of the right length
    const forged = Buffer.alloc(64, 7).toString('base64url');
    const res = await call(base, 'POST', '/auth/login/finish', {
      email: acc.email,
      finishLoginRequest: forged,
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_credentials');
  });

  it('when a finishLoginRequest is replayed, then it gets 401 invalid_credentials', async () => {
    const acc = newAccount('replay');
    await timedRegister(acc);
    const first = await timedLogin(acc);
    expect(first.finish?.status).toBe(200);
    const replay = await call(base, 'POST', '/auth/login/finish', {
      email: acc.email,
      finishLoginRequest: first.finishLoginRequest,
    });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('invalid_credentials');
    // and replaying it while a new start is pending does not match that start either
    const { startLoginRequest } = opaque.client.startLogin({ password: acc.password });
    expect(
      (await call(base, 'POST', '/auth/login/start', { email: acc.email, startLoginRequest }))
        .status,
    ).toBe(200);
    const replay2 = await call(base, 'POST', '/auth/login/finish', {
      email: acc.email,
      finishLoginRequest: first.finishLoginRequest,
    });
    expect(replay2.status).toBe(401);
  });

  it('when login/start is asked for a known and an unknown email, then the answers cannot be told apart', async () => {
    const known = newAccount('known');
    await timedRegister(known);
    const unknown = newAccount('ghost');
    await opaque.ready;
    const { startLoginRequest } = opaque.client.startLogin({ password: 'whatever' });
    const ask = (email: string) =>
      call(base, 'POST', '/auth/login/start', { email, startLoginRequest });
    const [k1, k2, u1, u2] = [
      await ask(known.email),
      await ask(known.email),
      await ask(unknown.email),
      await ask(unknown.email),
    ];
    for (const r of [k1, k2, u1, u2]) {
      expect(r.status).toBe(200);
      expect(Object.keys(r.body)).toEqual(['loginResponse']);
      expect(r.headers.get('content-length')).toBe(k1.headers.get('content-length'));
      expect(r.body.loginResponse).toHaveLength(k1.body.loginResponse.length);
      expect(r.body.loginResponse).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    const bytes = (s: string) => Buffer.from(s, 'base64url');
    // OPRF part (first 32 bytes) is deterministic per (email, request) for both; the masked rest is fresh for both
    expect(bytes(k1.body.loginResponse).subarray(0, 32)).toEqual(
      bytes(k2.body.loginResponse).subarray(0, 32),
    );
    expect(bytes(u1.body.loginResponse).subarray(0, 32)).toEqual(
      bytes(u2.body.loginResponse).subarray(0, 32),
    );
    expect(bytes(k1.body.loginResponse).subarray(32)).not.toEqual(
      bytes(k2.body.loginResponse).subarray(32),
    );
    expect(bytes(u1.body.loginResponse).subarray(32)).not.toEqual(
      bytes(u2.body.loginResponse).subarray(32),
    );
    // and the finish fails the same way
    const forged = Buffer.alloc(64, 1).toString('base64url');
    const fk = await call(base, 'POST', '/auth/login/finish', {
      email: known.email,
      finishLoginRequest: forged,
    });
    const fu = await call(base, 'POST', '/auth/login/finish', {
      email: unknown.email,
      finishLoginRequest: forged,
    });
    expect([fk.status, fk.raw]).toEqual([fu.status, fu.raw]);
  });

  it('when a used refresh token is presented again, then the whole family is revoked', async () => {
    const acc = newAccount('reuse');
    await timedRegister(acc);
    const { finish } = await timedLogin(acc);
    const r0 = finish?.body.refreshToken as string;
    const r1 = await call(base, 'POST', '/auth/refresh', { refreshToken: r0 });
    expect(r1.status).toBe(200);
    // the thief replays the old token
    const stolen = await call(base, 'POST', '/auth/refresh', { refreshToken: r0 });
    expect(stolen.status).toBe(401);
    expect(stolen.body.error.code).toBe('invalid_token');
    // the legitimate holder's newer token is dead too
    const legit = await call(base, 'POST', '/auth/refresh', { refreshToken: r1.body.refreshToken });
    expect(legit.status).toBe(401);
    expect((await call(base, 'GET', '/me', undefined, bearer(r1.body.accessToken))).status).toBe(
      401,
    );
    const rows = (await app.ds.query(
      `SELECT kind FROM users.audit_log WHERE user_id = $1 ORDER BY id`,
      [finish?.body.user.id],
    )) as {
      kind: string;
    }[];
    expect(rows.map((r) => r.kind)).toContain('refresh_reuse_detected');
  });

  it('when a browser logs in, then it gets httpOnly SameSite=Strict cookies and cookie requests need an allowed Origin', async () => {
    const acc = newAccount('web');
    const reg = await timedRegister(acc, {});
    expect(reg.status).toBe(200);
    expect(reg.body.refreshToken).toBeUndefined();
    const { finish } = await timedLogin(acc, { origin: 'http://localhost:8080' });
    expect(finish?.status).toBe(200);
    expect(finish?.body.refreshToken).toBeUndefined();
    const cookies = finish!.headers.getSetCookie();
    const access = cookies.find((c) => c.startsWith('cc_access='))!;
    const refresh = cookies.find((c) => c.startsWith('cc_refresh='))!;
    expect(access).toMatch(/HttpOnly/);
    expect(access).toMatch(/SameSite=Strict/);
    expect(access).toMatch(/Path=\//);
    expect(access).toMatch(/Max-Age=900/);
    expect(refresh).toMatch(/Path=\/api\/user\/auth/);
    expect(refresh).toMatch(/HttpOnly/);
    expect(refresh).toMatch(/SameSite=Strict/);
    expect(refresh).toMatch(/Max-Age=2592000/);
    // the access token lives in the httpOnly cookie only: script in the page never sees it
    expect(finish?.body.accessToken).toBeUndefined();
    expect(JSON.stringify(finish?.body)).not.toContain(access.split(';')[0]!.slice('cc_access='.length));
    const jar = cookies.map((c) => c.split(';')[0]).join('; ');

    expect((await call(base, 'GET', '/me', undefined, { cookie: jar })).status).toBe(200);
    // state change with cookies but from another site (or no Origin): CSRF refused, nothing changes
    const csrf = await call(
      base,
      'PATCH',
      '/me',
      { displayName: 'pwned' },
      { cookie: jar, origin: 'https://evil.example' },
    );
    expect(csrf.status).toBe(403);
    expect(csrf.body.error.code).toBe('origin_not_allowed');
    expect(
      (await call(base, 'PATCH', '/me', { displayName: 'pwned' }, { cookie: jar })).status,
    ).toBe(403);
    const ok = await call(
      base,
      'PATCH',
      '/me',
      { displayName: 'Web User' },
      { cookie: jar, origin: 'http://localhost:8080' },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.displayName).toBe('Web User');

    // refresh by cookie: new cookies, the refresh token never in the body (even if the page claims to be a CLI)
    const refreshed = await call(base, 'POST', '/auth/refresh', undefined, {
      cookie: jar,
      origin: 'http://localhost:8080',
      'x-client': 'cli',
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).toBeUndefined();
    expect(refreshed.body.accessToken).toBeUndefined();
    expect(refreshed.headers.getSetCookie().some((c) => c.startsWith('cc_refresh='))).toBe(true);

    const jar2 = refreshed.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const out = await call(base, 'POST', '/auth/logout', undefined, {
      cookie: jar2,
      origin: 'http://localhost:8080',
    });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().some((c) => c.startsWith('cc_refresh=;'))).toBe(true);
  });

  it('when a user changes the password while logged in, then the old password fails, the new one works and other sessions end', async () => {
    const acc = newAccount('chg');
    await timedRegister(acc);
    const a = (await timedLogin(acc)).finish!.body;
    const b = (await timedLogin(acc)).finish!.body;
    const newPassword = `${acc.password}-new`;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
      password: newPassword,
    });
    const start = await call(
      base,
      'POST',
      '/me/password/start',
      { registrationRequest },
      bearer(a.accessToken),
    );
    expect(start.status).toBe(200);
    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse: start.body.registrationResponse,
      password: newPassword,
    });
    expect(
      (
        await call(
          base,
          'POST',
          '/me/password/finish',
          { registrationRecord },
          bearer(a.accessToken),
        )
      ).status,
    ).toBe(204);
    expect((await call(base, 'GET', '/me', undefined, bearer(a.accessToken))).status).toBe(200);
    expect((await call(base, 'GET', '/me', undefined, bearer(b.accessToken))).status).toBe(401);
    expect(
      (await call(base, 'POST', '/auth/refresh', { refreshToken: b.refreshToken })).status,
    ).toBe(401);
    const old = await login(base, acc);
    expect(old.finish).toBeUndefined(); // the client cannot even finish with the old password
    expect((await timedLogin({ ...acc, password: newPassword })).finish?.status).toBe(200);
  });

  it('when a user resets the password by email, then the link re-registers OPAQUE, sessions end and the link works once', async () => {
    const acc = newAccount('reset');
    const reg = await timedRegister(acc);
    const userId = reg.body.user.id as string;
    // an unverified address gets a reset link too, never a new verification link (the account
    // may be a squatter's: registration-attempt.int.test.ts); finishing the reset verifies it
    const session = (await timedLogin(acc)).finish!.body;
    expect(
      (await call(base, 'POST', '/auth/password-reset/request', { email: acc.email })).status,
    ).toBe(202);
    const ev = await h.waitForEvent(
      'user.password_reset_requested.v1',
      (e) => e.payload.userId === userId,
    );
    expect(String(ev.payload.resetUrl)).toMatch(
      /^http:\/\/localhost:8080\/reset-password\?token=[A-Za-z0-9_-]{43}$/,
    );
    const token = tokenOf(ev.payload.resetUrl);
    const newPassword = `${acc.password}-reset`;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
      password: newPassword,
    });
    const start = await call(base, 'POST', '/auth/password-reset/start', {
      token,
      registrationRequest,
    });
    expect(start.status).toBe(200);
    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse: start.body.registrationResponse,
      password: newPassword,
    });
    expect(
      (await call(base, 'POST', '/auth/password-reset/finish', { token, registrationRecord }))
        .status,
    ).toBe(204);
    expect(
      (await call(base, 'POST', '/auth/password-reset/finish', { token, registrationRecord }))
        .status,
    ).toBe(401);
    expect(
      (await call(base, 'POST', '/auth/refresh', { refreshToken: session.refreshToken })).status,
    ).toBe(401);
    expect((await login(base, acc)).finish).toBeUndefined();
    expect((await timedLogin({ ...acc, password: newPassword })).finish?.status).toBe(200);
    // the only verification mail was the sign-up's; the reset verified the address
    expect(
      h.events.filter(
        (e) => e.type === 'user.email_verification_requested.v1' && e.payload.userId === userId,
      ).length,
    ).toBe(1);
    const [row] = (await app.ds.query(
      `SELECT email_verified_at IS NOT NULL AS verified FROM users.users WHERE id = $1`,
      [userId],
    )) as { verified: boolean }[];
    expect(row?.verified).toBe(true);
  });

  it('when a reset is requested for an unknown address, then the answer is the same 202 and nothing is sent', async () => {
    const acc = newAccount('known2');
    const userId = (await timedRegister(acc)).body.user.id as string;
    // the sign-up's own mail is out first, so the order argument below holds
    await h.waitForEvent('user.email_verification_requested.v1', (e) => e.payload.userId === userId);
    const unknown = newAccount('nobody').email;
    const agent = `probe-${userId}`;
    const res = await call(
      base,
      'POST',
      '/auth/password-reset/request',
      { email: unknown },
      { 'user-agent': agent },
    );
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted' });
    // a known one answers identically
    const known = await call(base, 'POST', '/auth/password-reset/request', { email: acc.email });
    expect([known.status, known.raw]).toEqual([res.status, res.raw]);
    // The known address's mail (a reset link, though it is unverified) is committed after
    // anything the unknown request could have written, and the relay publishes in commit
    // order: once it has arrived, a mail for the unknown address would have arrived too.
    await h.waitForEvent('user.password_reset_requested.v1', (e) => e.payload.userId === userId);
    expect(
      h.events.filter((e) =>
        JSON.stringify(e.payload).toLowerCase().includes(unknown.toLowerCase()),
      ),
    ).toEqual([]);
    // the unknown address did a comparable database round trip: an audit row without a user
    const audit = (await app.ds.query(
      `SELECT user_id, kind, details FROM users.audit_log WHERE user_agent = $1`,
      [agent],
    )) as unknown[];
    expect(audit).toEqual([
      { user_id: null, kind: 'password_reset_requested', details: { mailed: 'nothing' } },
    ]);
  });

  it('when users search the directory, then they find names by prefix and trigram, page with a stable cursor, and never see emails', async () => {
    const tag = `dir${Date.now().toString(36)}`;
    const accs = Array.from({ length: 5 }, (_, i) => ({
      ...newAccount(tag),
      username: `${tag}_${i}`,
    }));
    for (const acc of accs) expect((await timedRegister(acc)).status).toBe(200);
    const me = (await timedLogin(accs[0]!)).finish!.body;
    const auth = bearer(me.accessToken);
    expect((await call(base, 'GET', `/users?query=${tag}`)).status).toBe(401);

    const page1 = await call(base, 'GET', `/users?query=${tag}&limit=2`, undefined, auth);
    expect(page1.status).toBe(200);
    expect(page1.body.users.map((u: { username: string }) => u.username)).toEqual([
      `${tag}_0`,
      `${tag}_1`,
    ]);
    expect(page1.raw).not.toContain('@');
    DirectoryPage.parse(page1.body);
    const page2 = await call(
      base,
      'GET',
      `/users?query=${tag}&limit=2&cursor=${page1.body.nextCursor}`,
      undefined,
      auth,
    );
    const page3 = await call(
      base,
      'GET',
      `/users?query=${tag}&limit=2&cursor=${page2.body.nextCursor}`,
      undefined,
      auth,
    );
    expect(page2.body.users.map((u: { username: string }) => u.username)).toEqual([
      `${tag}_2`,
      `${tag}_3`,
    ]);
    expect(page3.body.users.map((u: { username: string }) => u.username)).toEqual([`${tag}_4`]);
    expect(page3.body.nextCursor).toBeNull();

    // display-name search and a typo (trigram)
    const byName = await call(
      base,
      'GET',
      `/users?query=${encodeURIComponent(`display ${tag}_3`)}`,
      undefined,
      auth,
    );
    expect(byName.body.users[0].username).toBe(`${tag}_3`);
    const typo = await call(base, 'GET', `/users?query=${tag.slice(0, -1)}x_2`, undefined, auth);
    expect(typo.body.users.map((u: { username: string }) => u.username)).toContain(`${tag}_2`);
    // wildcards are literal
    const wild = await call(base, 'GET', `/users?query=${encodeURIComponent('%%_')}`, undefined, auth);
    expect(wild.status).toBe(200);
    expect(wild.body.users).toEqual([]);
    // the directory never lists everyone: no query, an empty one or fewer than 3 characters is refused
    for (const q of ['', '?query=', `?query=ab`, `?query=${encodeURIComponent('  ab  ')}`, '?limit=50']) {
      const r = await call(base, 'GET', `/users${q}`, undefined, auth);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe('validation_error');
      expect(r.raw, q).not.toContain(tag);
    }

    const one = await call(base, 'GET', `/users/${page1.body.users[1].id}`, undefined, auth);
    expect(one.status).toBe(200);
    expect(Object.keys(one.body).sort()).toEqual(['displayName', 'id', 'username']);
    expect(
      (await call(base, 'GET', `/users/00000000-0000-4000-8000-000000000000`, undefined, auth))
        .status,
    ).toBe(404);
    expect((await call(base, 'GET', `/users/not-a-uuid`, undefined, auth)).status).toBe(400);
    expect((await call(base, 'GET', `/users?cursor=garbage!`, undefined, auth)).status).toBe(400);
  });

  it('when a user edits, exports and deletes the account, then events go out and the account is gone', async () => {
    const acc = newAccount('del');
    const reg = await timedRegister(acc);
    const userId = reg.body.user.id as string;
    const s = (await timedLogin(acc)).finish!.body;
    const auth = bearer(s.accessToken);

    const other = newAccount('taken');
    await timedRegister(other);
    const clash = await call(base, 'PATCH', '/me', { username: other.username }, auth);
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('username_taken');
    const patched = await call(base, 'PATCH', '/me', { displayName: 'New Name' }, auth);
    expect(patched.status).toBe(200);
    const upd = await h.waitForEvent('user.profile_updated.v1', (e) => e.payload.userId === userId);
    expect(upd.payload.displayName).toBe('New Name');

    const sessions = await call(base, 'GET', '/me/sessions', undefined, auth);
    expect(sessions.status).toBe(200);
    MySessions.parse(sessions.body);
    expect(sessions.body.sessions.filter((x: { current: boolean }) => x.current)).toHaveLength(1);

    const exported = await call(base, 'GET', '/me/export', undefined, auth);
    expect(exported.status).toBe(200);
    expect(exported.body.profile.email).toBe(acc.email);
    DataExport.parse(exported.body);
    expect(exported.body.auditLog.map((a: { kind: string }) => a.kind)).toEqual(
      expect.arrayContaining(['registered', 'login_succeeded', 'profile_updated']),
    );
    expect(exported.raw).not.toMatch(/opaque|record|digest/i);

    expect((await call(base, 'DELETE', '/me', undefined, auth)).status).toBe(204);
    await h.waitForEvent('user.deleted.v1', (e) => e.payload.userId === userId);
    expect((await call(base, 'GET', '/me', undefined, auth)).status).toBe(401);
    expect((await login(base, acc)).finish).toBeUndefined();
    // the email and username are free again
    expect((await timedRegister(acc)).status).toBe(200);
  });

  it('when a stranger registers my (taken) address, then every answer matches a free address, no account is created, and I get one mail', async () => {
    const me = newAccount('owner');
    const myId = (await timedRegister(me)).body.user.id as string;
    const verify = await h.waitForEvent(
      'user.email_verification_requested.v1',
      (e) => e.payload.userId === myId,
    );
    expect(
      (await call(base, 'POST', '/auth/verify-email', { token: tokenOf(verify.payload.verifyUrl) }))
        .status,
    ).toBe(204);
    const stranger = { ...newAccount('probe'), email: me.email.toUpperCase() };
    const free = newAccount('free');
    // register/start: same status, same fields, same length (the response depends only on the request)
    const startOf = async (acc: Account) => {
      const { registrationRequest } = opaque.client.startRegistration({ password: acc.password });
      const r = await call(base, 'POST', '/auth/register/start', {
        email: acc.email,
        username: acc.username,
        registrationRequest,
      });
      return {
        status: r.status,
        keys: Object.keys(r.body),
        length: r.raw.length,
        headers: r.headers.get('content-type'),
      };
    };
    expect(await startOf(stranger)).toEqual(await startOf(free));
    // register/finish: byte-identical answers
    const taken = await registerOnly(base, stranger);
    const freeFinish = await registerOnly(base, free);
    expect([taken.status, taken.raw]).toEqual([202, '{"status":"accepted"}']);
    expect([freeFinish.status, freeFinish.raw]).toEqual([taken.status, taken.raw]);
    expect(taken.headers.get('set-cookie')).toBeNull();
    // no second account; my password still works, the stranger's does not
    const rows = (await app.ds.query(`SELECT id FROM users.users WHERE email = $1`, [
      me.email,
    ])) as { id: string }[];
    expect(rows).toEqual([{ id: myId }]);
    expect((await login(base, stranger)).finish).toBeUndefined(); // like any wrong password
    expect((await login(base, me)).finish?.status).toBe(200);
    expect((await login(base, free)).finish?.status).toBe(200);
    // exactly one mail to me: "someone tried to sign up", with a reset link (the way in, whoever it was)
    expect((await h.waitForEvent('user.password_reset_requested.v1', (e) => e.payload.userId === myId)).payload.reason).toBe('registration_attempt');
    await h.waitForEvent('user.registered.v1', (e) => e.payload.username === free.username);
    expect(
      h.events
        .filter((e) => e.payload.userId === myId && e.type !== 'user.new_login.v1')
        .map((e) => e.type),
    ).toEqual([
      'user.registered.v1',
      'user.email_verification_requested.v1',
      'user.profile_updated.v1',
      'user.password_reset_requested.v1',
    ]);
    expect(
      h.events.filter(
        (e) => e.type === 'user.registered.v1' && e.payload.username === stranger.username,
      ),
    ).toEqual([]);
  });

  it('when registering a username that is taken, then 409 username_taken, whether the email is free or taken', async () => {
    const acc = newAccount('dup');
    await timedRegister(acc);
    const freeEmail = await register(base, { ...newAccount('dup3'), username: acc.username });
    expect([freeEmail.status, freeEmail.body.error.code]).toEqual([409, 'username_taken']);
    const takenEmail = await register(base, {
      ...newAccount('dup4'),
      email: acc.email,
      username: acc.username,
    });
    expect([takenEmail.status, takenEmail.raw]).toEqual([freeEmail.status, freeEmail.raw]);
  });

  it('when the login is older than the re-auth window, then password change and deletion need a fresh login', async () => {
    const acc = newAccount('sudo');
    await timedRegister(acc);
    const s = (await timedLogin(acc)).finish!.body;
    await app.ds.query(
      `UPDATE users.sessions SET created_at = now() - interval '1 hour' WHERE user_id = $1`,
      [s.user.id],
    );
    const refreshed = await call(base, 'POST', '/auth/refresh', { refreshToken: s.refreshToken });
    expect(refreshed.status).toBe(200); // a refresh keeps the session usable...
    const auth = bearer(refreshed.body.accessToken);
    expect((await call(base, 'GET', '/me', undefined, auth)).status).toBe(200);
    const { registrationRequest } = opaque.client.startRegistration({
      password: 'another-password',
    });
    const change = await call(base, 'POST', '/me/password/start', { registrationRequest }, auth);
    expect(change.status).toBe(401); // ...but is not proof of the password
    expect(change.body.error.code).toBe('reauth_required');
    const del = await call(base, 'DELETE', '/me', undefined, auth);
    expect(del.body.error.code).toBe('reauth_required');
    const fresh = (await timedLogin(acc)).finish!.body;
    expect(
      (
        await call(
          base,
          'POST',
          '/me/password/start',
          { registrationRequest },
          bearer(fresh.accessToken),
        )
      ).status,
    ).toBe(200);
  });

  it('when logging out everywhere, then every session of the user ends', async () => {
    const acc = newAccount('all');
    await timedRegister(acc);
    const a = (await timedLogin(acc)).finish!.body;
    const b = (await timedLogin(acc)).finish!.body;
    expect(
      (await call(base, 'POST', '/auth/logout-all', undefined, bearer(a.accessToken))).status,
    ).toBe(204);
    for (const s of [a, b]) {
      expect(
        (await call(base, 'POST', '/auth/refresh', { refreshToken: s.refreshToken })).status,
      ).toBe(401);
      expect((await call(base, 'GET', '/me', undefined, bearer(s.accessToken))).status).toBe(401);
    }
  });
});
