import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRevocationList, type RevocationList } from '@cipherchat/service-kit';
import {
  call,
  createHarness,
  login,
  newAccount,
  register,
  type Harness,
} from './support/harness.js';

// Issue 15, deliverable 7: every way a session ends puts it on the revocation list chat-service
// reads (service-kit's RevocationList, same prefix), so its socket and token die within seconds.

describe('revocation list written when sessions end', () => {
  let h: Harness;
  let base: string;
  let list: RevocationList;

  beforeAll(async () => {
    h = await createHarness('revoke');
    const prefix = `${h.redisKeyPrefix}revoked:`;
    const { app, url } = await h.startApp({ REVOCATION_KEY_PREFIX: prefix });
    base = url;
    list = createRevocationList(app.redis, { prefix });
    await opaque.ready;
  });
  afterAll(async () => {
    await h?.close();
  });

  const sidOf = (token: string) =>
    (
      JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
        sid: string;
      }
    ).sid;
  /** A user with three sessions (as three devices would have). */
  const threeSessions = async (tag: string) => {
    const acc = newAccount(tag);
    const first = (await register(base, acc)).body;
    const userId = first.user.id as string;
    const more = [(await login(base, acc)).finish!.body, (await login(base, acc)).finish!.body];
    return {
      acc,
      userId,
      sessions: [first, ...more].map((b) => ({
        sessionId: sidOf(b.accessToken),
        userId,
        token: b.accessToken as string,
        refresh: b.refreshToken as string,
      })),
    };
  };
  const revoked = async (refs: { sessionId: string; userId: string }[]) =>
    Promise.all(refs.map((r) => list.isRevoked(r)));

  it('when I log out one device, then only that session is listed', async () => {
    const { sessions } = await threeSessions('logout');
    expect(await revoked(sessions)).toEqual([false, false, false]);
    expect(
      (
        await call(
          base,
          'POST',
          '/auth/logout',
          { refreshToken: sessions[1]!.refresh },
          { 'x-client': 'cli' },
        )
      ).status,
    ).toBe(204);
    expect(await revoked(sessions)).toEqual([false, true, false]);
  });

  it('when I log out other devices, then every other session is listed and mine is not', async () => {
    const { sessions } = await threeSessions('others');
    const me = sessions[0]!;
    const res = await call(
      base,
      'POST',
      '/me/sessions/revoke-others',
      {},
      { authorization: `Bearer ${me.token}` },
    );
    expect([res.status, res.body]).toEqual([200, { revoked: 2 }]);
    expect(await revoked(sessions)).toEqual([false, true, true]);
    // and one revoked from the session list
    const { sessions: s2 } = await threeSessions('one');
    expect(
      (
        await call(base, 'DELETE', `/me/sessions/${s2[2]!.sessionId}`, undefined, {
          authorization: `Bearer ${s2[0]!.token}`,
        })
      ).status,
    ).toBe(204);
    expect(await revoked(s2)).toEqual([false, false, true]);
  });

  it('when a refresh token is reused, then its session is listed', async () => {
    const { sessions } = await threeSessions('reuse');
    const s = sessions[0]!;
    expect((await call(base, 'POST', '/auth/refresh', { refreshToken: s.refresh })).status).toBe(
      200,
    );
    expect((await call(base, 'POST', '/auth/refresh', { refreshToken: s.refresh })).status).toBe(
      401,
    );
    expect(await revoked(sessions)).toEqual([true, false, false]);
  });

  it('when I delete my account, then the whole user is listed (any session id of theirs is refused); another user is not', async () => {
    const { sessions, userId } = await threeSessions('delete');
    const other = await threeSessions('bystander');
    const fresh = (await login(base, (await threeSessions('x')).acc)).finish!.body;
    expect(fresh.accessToken).toBeTruthy();
    // deletion needs a recent login: the newest session is one
    const res = await call(base, 'DELETE', '/me', undefined, {
      authorization: `Bearer ${sessions[2]!.token}`,
    });
    expect(res.status).toBe(204);
    expect(await revoked(sessions)).toEqual([true, true, true]);
    expect(
      await list.isRevoked({ sessionId: '00000000-0000-4000-8000-000000000000', userId }),
    ).toBe(true);
    expect(await revoked(other.sessions)).toEqual([false, false, false]);
  });
});
