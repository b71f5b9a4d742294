import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import {
  call,
  createHarness,
  login,
  newAccount,
  register,
  tokenOf,
  type Account,
  type Harness,
} from './support/harness.js';

let ipCounter = 0;
/** A new client IP (nginx's X-Forwarded-For; trust proxy is loopback, as behind nginx). */
const freshIp = () => {
  ipCounter += 1;
  return {
    'x-forwarded-for': `198.51.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`,
    'x-client': 'cli',
  };
};
type Ip = ReturnType<typeof freshIp>;

describe('lockout that cannot be weaponised: failed proofs per (account, IP), across two instances', () => {
  let h: Harness;
  let a: { app: App; url: string };
  let b: { app: App; url: string };

  beforeAll(async () => {
    h = await createHarness('lock');
    a = await h.startApp();
    b = await h.startApp();
    await opaque.ready;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A start plus a finish with a wrong proof, from `ip`; returns the finish answer (or a refused start). */
  const wrongProof = async (base: string, acc: Account, ip: Ip, i: number) => {
    const { startLoginRequest, clientLoginState } = opaque.client.startLogin({
      password: `wrong-${i}`,
    });
    const start = await call(
      base,
      'POST',
      '/auth/login/start',
      { email: acc.email, startLoginRequest },
      ip,
    );
    if (start.status !== 200) return start;
    expect(
      opaque.client.finishLogin({
        clientLoginState,
        loginResponse: start.body.loginResponse,
        password: `wrong-${i}`,
      }),
    ).toBeUndefined();
    const forged = Buffer.alloc(64, i).toString('base64url');
    return call(
      base,
      'POST',
      '/auth/login/finish',
      { email: acc.email, finishLoginRequest: forged },
      ip,
    );
  };
  const auditKinds = async (email: string) => {
    const rows = (await a.app.ds.query(
      `SELECT kind, count(*)::int AS n FROM users.audit_log a JOIN users.users u ON u.id = a.user_id WHERE u.email = $1 GROUP BY kind`,
      [email],
    )) as { kind: string; n: number }[];
    return Object.fromEntries(rows.map((k) => [k.kind, k.n]));
  };

  it('when a stranger sends 20 anonymous login/start calls for my address (from one IP and from many), then I still log in', async () => {
    const me = newAccount('owner');
    expect((await register(a.url, me, freshIp())).status).toBe(200);
    const stranger = freshIp();
    for (let i = 0; i < 20; i += 1) {
      const { startLoginRequest } = opaque.client.startLogin({ password: `guess-${i}` });
      const res = await call(
        i % 2 ? a.url : b.url,
        'POST',
        '/auth/login/start',
        { email: me.email, startLoginRequest },
        i < 10 ? stranger : freshIp(),
      );
      expect(res.status).toBe(200);
    }
    // the stranger's own IP is not locked either: starts are free, only proofs count
    expect((await login(a.url, me, freshIp())).finish?.status).toBe(200);
    expect((await login(b.url, { ...me }, stranger)).start.status).toBe(200);
  });

  it('when wrong proofs from one IP reach the limit, then that IP is locked (even with the right password) and I log in from mine', async () => {
    const me = newAccount('victim');
    const mine = freshIp();
    await register(a.url, me, mine);
    const attacker = freshIp();
    for (let i = 0; i < 9; i += 1)
      expect((await wrongProof(i % 2 ? a.url : b.url, me, attacker, i)).status).toBe(401);
    const tenth = await wrongProof(b.url, me, attacker, 9);
    expect([tenth.status, tenth.body.error.code]).toEqual([429, 'account_locked']);
    expect(Number(tenth.headers.get('retry-after'))).toBe(60);
    const right = await login(a.url, me, attacker);
    expect([right.start.status, right.start.body.error.code]).toEqual([429, 'account_locked']);
    expect(Number(right.start.headers.get('retry-after'))).toBeGreaterThan(0);
    // the owner, from another address, is not affected
    expect((await login(b.url, me, mine)).finish?.status).toBe(200);
    expect(await auditKinds(me.email)).toMatchObject({
      login_failed: 10,
      login_locked: 2,
      // the sign-up's own login (register/finish opens no session) and mine just now
      login_succeeded: 2,
    });
  });

  it('when wrong proofs come from many IPs, then the higher per-account ceiling locks the account; a reset mail still works and lifts it; a known refresh token keeps working', async () => {
    const strict = await h.startApp({
      LOGIN_MAX_FAILURES: '3',
      LOGIN_ACCOUNT_MAX_FAILURES: '6',
      REDIS_KEY_PREFIX: `${h.redisKeyPrefix}acct:`,
    });
    const me = newAccount('distributed');
    const mine = freshIp();
    const userId = (await register(strict.url, me, mine)).body.user.id as string;
    const verify = await h.waitForEvent(
      'user.email_verification_requested.v1',
      (e) => e.payload.userId === userId,
    );
    expect(
      (
        await call(strict.url, 'POST', '/auth/verify-email', {
          token: tokenOf(verify.payload.verifyUrl),
        })
      ).status,
    ).toBe(204);
    const known = (await login(strict.url, me, mine)).finish!.body;
    for (let i = 0; i < 5; i += 1)
      expect((await wrongProof(strict.url, me, freshIp(), i)).status).toBe(401);
    const sixth = await wrongProof(strict.url, me, freshIp(), 5);
    expect([sixth.status, sixth.body.error.code]).toEqual([429, 'account_locked']);
    expect((await login(strict.url, me, mine)).start.status).toBe(429);
    expect((await login(strict.url, me, freshIp())).start.status).toBe(429);
    // the known device's refresh token keeps working while the account is locked
    const refreshed = await call(
      strict.url,
      'POST',
      '/auth/refresh',
      { refreshToken: known.refreshToken },
      mine,
    );
    expect(refreshed.status).toBe(200);
    // a reset mail still goes out, and the reset lifts every lock (the account's and each IP's)
    expect(
      (await call(strict.url, 'POST', '/auth/password-reset/request', { email: me.email }, mine))
        .status,
    ).toBe(202);
    const ev = await h.waitForEvent(
      'user.password_reset_requested.v1',
      (e) => e.payload.userId === userId,
    );
    const token = tokenOf(ev.payload.resetUrl);
    const newPassword = `${me.password}-new`;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
      password: newPassword,
    });
    const start = await call(
      strict.url,
      'POST',
      '/auth/password-reset/start',
      { token, registrationRequest },
      mine,
    );
    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse: start.body.registrationResponse,
      password: newPassword,
    });
    expect(
      (
        await call(
          strict.url,
          'POST',
          '/auth/password-reset/finish',
          { token, registrationRecord },
          mine,
        )
      ).status,
    ).toBe(204);
    expect((await login(strict.url, { ...me, password: newPassword }, mine)).finish?.status).toBe(
      200,
    );
  });

  it('when a pair is locked and then reset, then the IP that was locked may log in again', async () => {
    const me = newAccount('pairreset');
    const ip = freshIp();
    const userId = (await register(a.url, me, ip)).body.user.id as string;
    for (let i = 0; i < 10; i += 1) await wrongProof(a.url, me, ip, i);
    expect((await login(a.url, me, ip)).start.status).toBe(429);
    const verify = await h.waitForEvent(
      'user.email_verification_requested.v1',
      (e) => e.payload.userId === userId,
    );
    expect(
      (
        await call(a.url, 'POST', '/auth/verify-email', {
          token: tokenOf(verify.payload.verifyUrl),
        })
      ).status,
    ).toBe(204);
    expect(
      (await call(a.url, 'POST', '/auth/password-reset/request', { email: me.email }, ip)).status,
    ).toBe(202);
    const token = tokenOf(
      (await h.waitForEvent('user.password_reset_requested.v1', (e) => e.payload.userId === userId))
        .payload.resetUrl,
    );
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
      password: me.password,
    });
    const start = await call(
      a.url,
      'POST',
      '/auth/password-reset/start',
      { token, registrationRequest },
      ip,
    );
    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse: start.body.registrationResponse,
      password: me.password,
    });
    expect(
      (await call(a.url, 'POST', '/auth/password-reset/finish', { token, registrationRecord }, ip))
        .status,
    ).toBe(204);
    expect((await login(b.url, me, ip)).finish?.status).toBe(200);
  });

  it('when an unknown email gets wrong proofs, then it locks exactly like a known one (no enumeration through the limiter)', async () => {
    const ghost = newAccount('ghost');
    const ip = freshIp();
    for (let i = 0; i < 9; i += 1)
      expect((await wrongProof(i % 2 ? a.url : b.url, ghost, ip, i)).status).toBe(401);
    expect((await wrongProof(a.url, ghost, ip, 9)).body.error.code).toBe('account_locked');
    const res = await call(
      a.url,
      'POST',
      '/auth/login/start',
      {
        email: ghost.email,
        startLoginRequest: opaque.client.startLogin({ password: 'x' }).startLoginRequest,
      },
      ip,
    );
    expect([res.status, res.body.error.code]).toEqual([429, 'account_locked']);
  });

  it("when a login succeeds, then that IP's failure count starts over", async () => {
    const acc = newAccount('reset');
    const ip = freshIp();
    await register(a.url, acc, ip);
    for (let i = 0; i < 9; i += 1) await wrongProof(a.url, acc, ip, i);
    expect((await login(b.url, acc, ip)).finish?.status).toBe(200);
    for (let i = 0; i < 9; i += 1) expect((await wrongProof(b.url, acc, ip, i)).status).toBe(401);
    expect((await wrongProof(a.url, acc, ip, 9)).status).toBe(429);
    expect((await login(a.url, acc, ip)).start.status).toBe(429);
  });

  it('when a pair is locked again after a lockout ran out, then the lockout doubles', async () => {
    const acc = newAccount('again');
    const ip = freshIp();
    await register(a.url, acc, ip);
    for (let i = 0; i < 10; i += 1) await wrongProof(a.url, acc, ip, i);
    const first = await login(a.url, acc, ip);
    expect(first.start.status).toBe(429);
    expect(Number(first.start.headers.get('retry-after'))).toBe(60);
    // let the lockout "run out": drop only the failure counters (the lockout history stays)
    const keys = await a.app.redis.keys(`${h.redisKeyPrefix}rl:login:*`);
    expect(keys.length).toBeGreaterThan(0);
    await a.app.redis.del(...keys);
    for (let i = 0; i < 9; i += 1) expect((await wrongProof(b.url, acc, ip, i)).status).toBe(401);
    const tenth = await wrongProof(b.url, acc, ip, 9);
    expect([tenth.status, Number(tenth.headers.get('retry-after'))]).toEqual([429, 120]);
  });

  it('when one IP exceeds the per-IP budget on the auth routes, then it gets 429 rate_limited while other IPs pass', async () => {
    const limited = await h.startApp({
      RATE_LIMIT_IP_POINTS: '5',
      REDIS_KEY_PREFIX: `${h.redisKeyPrefix}ip:`,
    });
    const ip = { 'x-forwarded-for': '203.0.113.9' };
    for (let i = 0; i < 5; i += 1) {
      expect(
        (
          await call(
            limited.url,
            'POST',
            '/auth/password-reset/request',
            { email: `x${i}@example.test` },
            ip,
          )
        ).status,
      ).toBe(202);
    }
    const sixth = await call(
      limited.url,
      'POST',
      '/auth/password-reset/request',
      { email: 'y@example.test' },
      ip,
    );
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('rate_limited');
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(
      (
        await call(
          limited.url,
          'POST',
          '/auth/password-reset/request',
          { email: 'y@example.test' },
          { 'x-forwarded-for': '203.0.113.10' },
        )
      ).status,
    ).toBe(202);
  });
});
