import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createHarness,
  newAccount,
  register,
  type Account,
  type Harness,
} from './support/harness.js';

/** A client IP as nginx forwards it (trust proxy is loopback). */
const ipOf = (n: number) => ({ 'x-forwarded-for': `203.0.113.${n}`, 'x-client': 'cli' });

describe('a stranger cannot spoil my login between my start and my finish', () => {
  let h: Harness;
  let url: string;

  beforeAll(async () => {
    h = await createHarness('interleave');
    url = (await h.startApp()).url;
    await opaque.ready;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** My login/start; returns the finish to send later. */
  const myStart = async (me: Account, ip: ReturnType<typeof ipOf>) => {
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({
      password: me.password,
    });
    const start = await call(
      url,
      'POST',
      '/auth/login/start',
      { email: me.email, startLoginRequest },
      ip,
    );
    expect(start.status).toBe(200);
    const done = opaque.client.finishLogin({
      clientLoginState,
      loginResponse: start.body.loginResponse,
      password: me.password,
    });
    if (!done) throw new Error('the right password must finish on the client');
    return () =>
      call(
        url,
        'POST',
        '/auth/login/finish',
        { email: me.email, finishLoginRequest: done.finishLoginRequest },
        ip,
      );
  };
  const strangerStarts = async (email: string, n: number) => {
    for (let i = 0; i < n; i += 1) {
      const { startLoginRequest } = opaque.client.startLogin({ password: `guess-${i}` });
      expect(
        (await call(url, 'POST', '/auth/login/start', { email, startLoginRequest }, ipOf(66)))
          .status,
      ).toBe(200);
    }
  };

  it('when a stranger sends 5 login/start calls for my address while I log in, then my finish still succeeds', async () => {
    const me = newAccount('squeezed');
    expect((await register(url, me, ipOf(10))).status).toBe(200);
    const finish = await myStart(me, ipOf(10));
    await strangerStarts(me.email, 5);
    expect((await finish()).status).toBe(200);
  });

  it('when a stranger sends a forged login/finish for my address while I log in, then my finish still succeeds', async () => {
    const me = newAccount('flushed');
    expect((await register(url, me, ipOf(11))).status).toBe(200);
    const finish = await myStart(me, ipOf(11));
    const forged = Buffer.alloc(64, 7).toString('base64url');
    const theirs = await call(
      url,
      'POST',
      '/auth/login/finish',
      { email: me.email, finishLoginRequest: forged },
      ipOf(67),
    );
    expect([theirs.status, theirs.body.error.code]).toEqual([401, 'invalid_credentials']);
    expect((await finish()).status).toBe(200);
  });

  it('when a stranger spoils my login ten times, then my own address is not locked', async () => {
    const me = newAccount('tenfold');
    expect((await register(url, me, ipOf(12))).status).toBe(200);
    for (let i = 0; i < 10; i += 1) {
      const finish = await myStart(me, ipOf(12));
      await strangerStarts(me.email, 5);
      await finish();
    }
    const last = await myStart(me, ipOf(12));
    expect((await last()).status).toBe(200);
  });
});
