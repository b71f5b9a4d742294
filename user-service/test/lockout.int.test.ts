import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { call, createHarness, login, newAccount, register, type Account, type Harness } from './support/harness.js';

let ipCounter = 0;
/** A different client IP for every request (nginx's X-Forwarded-For; trust proxy is loopback). */
const freshIp = () => {
  ipCounter += 1;
  return { 'x-forwarded-for': `198.51.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`, 'x-client': 'cli' };
};

describe('brute-force limits in Redis, across IPs and across two user-service instances', () => {
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

  /** One failed attempt: a start that never finishes (odd) or a finish with a wrong password (even). */
  const failOnce = async (base: string, acc: Account, i: number) => {
    const { startLoginRequest, clientLoginState } = opaque.client.startLogin({ password: `wrong-${i}` });
    const start = await call(base, 'POST', '/auth/login/start', { email: acc.email, startLoginRequest }, freshIp());
    if (start.status !== 200 || i % 2 === 1) return start;
    expect(opaque.client.finishLogin({ clientLoginState, loginResponse: start.body.loginResponse, password: `wrong-${i}` })).toBeUndefined();
    const forged = Buffer.alloc(64, i).toString('base64url');
    const finish = await call(base, 'POST', '/auth/login/finish', { email: acc.email, finishLoginRequest: forged }, freshIp());
    expect(finish.status).toBe(401);
    return start;
  };

  it('when an account fails 10 times from rotating IPs on two instances, then the 11th attempt is refused with 429 even with the right password', async () => {
    const acc = newAccount('victim');
    expect((await register(a.url, acc, freshIp())).status).toBe(201);
    for (let i = 0; i < 10; i += 1) {
      const start = await failOnce(i % 2 ? a.url : b.url, acc, i);
      expect(start.status).toBe(200);
    }
    const eleventh = await call(b.url, 'POST', '/auth/login/start', { email: acc.email, startLoginRequest: opaque.client.startLogin({ password: acc.password }).startLoginRequest }, freshIp());
    expect(eleventh.status).toBe(429);
    expect(eleventh.body.error.code).toBe('account_locked');
    expect(Number(eleventh.headers.get('retry-after'))).toBeGreaterThan(0);
    const onA = await login(a.url, acc, freshIp());
    expect(onA.start.status).toBe(429);
    // the audit log has the failures and the lockout
    const kinds = (await a.app.ds.query(`SELECT kind, count(*)::int AS n FROM users.audit_log a JOIN users.users u ON u.id = a.user_id WHERE u.email = $1 GROUP BY kind`, [acc.email])) as { kind: string; n: number }[];
    expect(Object.fromEntries(kinds.map((k) => [k.kind, k.n]))).toMatchObject({ login_failed: 5, login_locked: 2 });
    // another account is not affected
    const other = newAccount('bystander');
    await register(b.url, other, freshIp());
    expect((await login(a.url, other, freshIp())).finish?.status).toBe(200);
  });

  it('when an unknown email is hammered, then it locks exactly like a known one (no enumeration through the limiter)', async () => {
    const ghost = newAccount('ghost');
    for (let i = 0; i < 10; i += 1) expect((await failOnce(i % 2 ? a.url : b.url, ghost, i)).status).toBe(200);
    const res = await call(a.url, 'POST', '/auth/login/start', { email: ghost.email, startLoginRequest: opaque.client.startLogin({ password: 'x' }).startLoginRequest }, freshIp());
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('account_locked');
  });

  it('when a login succeeds, then the failure count starts over', async () => {
    const acc = newAccount('reset');
    await register(a.url, acc, freshIp());
    for (let i = 0; i < 9; i += 1) await failOnce(a.url, acc, i);
    expect((await login(b.url, acc, freshIp())).finish?.status).toBe(200);
    for (let i = 0; i < 10; i += 1) expect((await failOnce(b.url, acc, i)).status).toBe(200);
    expect((await login(a.url, acc, freshIp())).start.status).toBe(429);
  });

  it('when an account is locked again after a lockout ran out, then the lockout doubles', async () => {
    const acc = newAccount('again');
    await register(a.url, acc, freshIp());
    for (let i = 0; i < 10; i += 1) await failOnce(a.url, acc, i);
    const first = await login(a.url, acc, freshIp());
    expect(first.start.status).toBe(429);
    expect(Number(first.start.headers.get('retry-after'))).toBe(60);
    // let the lockout "run out": drop only the failure counter (the lockout history stays)
    const keys = await a.app.redis.keys(`${h.redisKeyPrefix}rl:login:*`);
    expect(keys.length).toBeGreaterThan(0);
    await a.app.redis.del(...keys);
    for (let i = 0; i < 10; i += 1) expect((await failOnce(b.url, acc, i)).status).toBe(200);
    const second = await login(b.url, acc, freshIp());
    expect(second.start.status).toBe(429);
    expect(Number(second.start.headers.get('retry-after'))).toBe(120);
  });

  it('when one IP exceeds the per-IP budget on the auth routes, then it gets 429 rate_limited while other IPs pass', async () => {
    const limited = await h.startApp({ RATE_LIMIT_IP_POINTS: '5', REDIS_KEY_PREFIX: `${h.redisKeyPrefix}ip:` });
    const ip = { 'x-forwarded-for': '203.0.113.9' };
    for (let i = 0; i < 5; i += 1) {
      expect((await call(limited.url, 'POST', '/auth/password-reset/request', { email: `x${i}@example.test` }, ip)).status).toBe(202);
    }
    const sixth = await call(limited.url, 'POST', '/auth/password-reset/request', { email: 'y@example.test' }, ip);
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('rate_limited');
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call(limited.url, 'POST', '/auth/password-reset/request', { email: 'y@example.test' }, { 'x-forwarded-for': '203.0.113.10' })).status).toBe(202);
  });
});
