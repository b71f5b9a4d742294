import { createHash } from 'node:crypto';
import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { call, createHarness, login, newAccount, register, rememberSecret, seenSecrets, tokenOf, type Harness } from './support/harness.js';

/** Every textual form a secret could take in a dump: as is, hex of its bytes, hex of its base64 decoding. */
function forms(secret: string): string[] {
  const out = [secret, Buffer.from(secret, 'utf8').toString('hex')];
  if (/^[A-Za-z0-9_-]+$/.test(secret) && secret.length >= 16) out.push(Buffer.from(secret, 'base64url').toString('hex'));
  return out;
}

describe('no password, OPAQUE message, token or secret is stored in clear or logged', () => {
  let h: Harness;
  let app: App;
  let base: string;
  const passwords: string[] = [];
  const records: string[] = [];
  let rotatedRefresh = '';

  beforeAll(async () => {
    h = await createHarness('scan');
    ({ app, url: base } = await h.startApp());
    await opaque.ready;

    // exercise every flow that handles a secret
    const acc = newAccount('scan');
    passwords.push(acc.password);
    const reg = await register(base, acc);
    const userId = reg.body.user.id as string;
    const verify = await h.waitForEvent('user.email_verification_requested.v1', (e) => e.payload.userId === userId);
    await call(base, 'POST', '/auth/verify-email', { token: tokenOf(verify.payload.verifyUrl) });

    const browser = newAccount('scanweb');
    passwords.push(browser.password);
    const web = await register(base, browser, {});
    for (const c of web.headers.getSetCookie()) rememberSecret(c.split(';')[0]!.split('=')[1]);
    const webLogin = await login(base, browser, { origin: 'http://localhost:8080' });
    const jar = webLogin.finish!.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    for (const c of webLogin.finish!.headers.getSetCookie()) rememberSecret(c.split(';')[0]!.split('=')[1]);
    const webRefresh = await call(base, 'POST', '/auth/refresh', undefined, { cookie: jar, origin: 'http://localhost:8080' });
    for (const c of webRefresh.headers.getSetCookie()) rememberSecret(c.split(';')[0]!.split('=')[1]);

    const s = (await login(base, acc)).finish!.body;
    const r = await call(base, 'POST', '/auth/refresh', { refreshToken: s.refreshToken });
    rememberSecret(r.body.accessToken, r.body.refreshToken);
    rotatedRefresh = r.body.refreshToken;
    await call(base, 'POST', '/auth/refresh', { refreshToken: s.refreshToken }); // reuse -> family revoked

    // a wrong password and a forged finish
    const bad = opaque.client.startLogin({ password: 'wrong-password-123' });
    passwords.push('wrong-password-123');
    const badStart = await call(base, 'POST', '/auth/login/start', { email: acc.email, startLoginRequest: bad.startLoginRequest });
    rememberSecret(bad.startLoginRequest, badStart.body.loginResponse);
    const forged = Buffer.alloc(64, 9).toString('base64url');
    rememberSecret(forged);
    await call(base, 'POST', '/auth/login/finish', { email: acc.email, finishLoginRequest: forged });

    // password change
    const s2 = (await login(base, acc)).finish!.body;
    const changed = `${acc.password}-changed`;
    passwords.push(changed);
    const ch = opaque.client.startRegistration({ password: changed });
    const chStart = await call(base, 'POST', '/me/password/start', { registrationRequest: ch.registrationRequest }, { authorization: `Bearer ${s2.accessToken}` });
    const chDone = opaque.client.finishRegistration({ clientRegistrationState: ch.clientRegistrationState, registrationResponse: chStart.body.registrationResponse, password: changed });
    rememberSecret(ch.registrationRequest, chStart.body.registrationResponse, chDone.exportKey);
    records.push(chDone.registrationRecord);
    await call(base, 'POST', '/me/password/finish', { registrationRecord: chDone.registrationRecord }, { authorization: `Bearer ${s2.accessToken}` });

    // password reset by email
    await call(base, 'POST', '/auth/password-reset/request', { email: acc.email });
    const resetEv = await h.waitForEvent('user.password_reset_requested.v1', (e) => e.payload.userId === userId);
    const resetToken = tokenOf(resetEv.payload.resetUrl);
    const reset = `${acc.password}-reset`;
    passwords.push(reset);
    const rr = opaque.client.startRegistration({ password: reset });
    const rrStart = await call(base, 'POST', '/auth/password-reset/start', { token: resetToken, registrationRequest: rr.registrationRequest });
    const rrDone = opaque.client.finishRegistration({ clientRegistrationState: rr.clientRegistrationState, registrationResponse: rrStart.body.registrationResponse, password: reset });
    rememberSecret(rr.registrationRequest, rrStart.body.registrationResponse, rrDone.exportKey);
    records.push(rrDone.registrationRecord);
    await call(base, 'POST', '/auth/password-reset/finish', { token: resetToken, registrationRecord: rrDone.registrationRecord });
    const s3 = (await login(base, { ...acc, password: reset })).finish!.body;
    await call(base, 'POST', '/auth/logout', { refreshToken: s3.refreshToken });
    // wait until the relay has published everything (so processed outbox rows are in the dump too)
    await h.waitForEvent('user.new_login.v1', (e) => e.payload.userId === userId && h.events.filter((x) => x.type === 'user.new_login.v1' && x.payload.userId === userId).length >= 3);
  });
  afterAll(async () => {
    await h?.close();
  });

  const secretList = () => {
    const jwk = JSON.parse(h.secrets.JWT_PRIVATE_KEYS) as { d: string }[];
    return [...passwords, ...seenSecrets, h.secrets.OPAQUE_SERVER_SETUP, ...jwk.map((k) => k.d)].filter((s) => s.length >= 12);
  };

  it('when every row of every user-service table is dumped as text, then no secret appears', async () => {
    const tables = (await app.ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'users' AND table_type = 'BASE TABLE'`)) as {
      table_name: string;
    }[];
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['users', 'sessions', 'refresh_tokens', 'one_time_tokens', 'audit_log', 'outbox', 'inbox']));
    let dump = '';
    for (const { table_name } of tables) {
      const rows = (await app.ds.query(`SELECT row_to_json(t)::text AS j FROM "users"."${table_name}" t`)) as { j: string }[];
      dump += rows.map((r) => r.j).join('\n');
    }
    expect(dump.length).toBeGreaterThan(1000);
    // positive control: the dump holds the refresh token's SHA-256 digest (hex), so the search can see bytea
    expect(dump).toContain(createHash('sha256').update(rotatedRefresh).digest('hex'));
    const secrets = secretList();
    expect(secrets.length).toBeGreaterThan(25);
    for (const secret of secrets) for (const form of forms(secret)) expect(dump.includes(form), `secret found in the database: ${secret.slice(0, 12)}…`).toBe(false);
    // the outbox holds the link events, but their tokens only sealed
    expect(dump).toMatch(/token=sealed\./);
    // the OPAQUE record is the one credential stored (by design: useless without the password); only the latest one
    expect(dump.includes(Buffer.from(records[records.length - 1]!, 'base64url').toString('hex'))).toBe(true);
  });

  it('when every Redis key of the service is dumped, then it holds no secret and no email address', async () => {
    const keys = await app.redis.keys(`${h.redisKeyPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    let dump = keys.join('\n');
    for (const key of keys) {
      const type = await app.redis.type(key);
      if (type === 'list') dump += (await app.redis.lrange(key, 0, -1)).join('\n');
      else if (type === 'string') dump += (await app.redis.get(key)) ?? '';
      else if (type === 'hash') dump += JSON.stringify(await app.redis.hgetall(key));
    }
    expect(dump).not.toContain('@example.test');
    for (const secret of secretList()) for (const form of forms(secret)) expect(dump.includes(form), `secret found in Redis: ${secret.slice(0, 12)}…`).toBe(false);
  });

  it('when the captured logs are scanned, then no secret appears', () => {
    const logs = h.logs.text();
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).toMatch(/"url":"\/api\/user\/auth\/login\/finish"/);
    for (const secret of secretList()) for (const form of forms(secret)) expect(logs.includes(form), `secret found in the logs: ${secret.slice(0, 12)}…`).toBe(false);
  });
});
