import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../auth/tokens.js';
import { JWKS_PATH, TokenIssuer } from './token-issuer.js';
import { freePort } from './free-port.js';
import { newPerson, runNames } from './names.js';

describe('runNames', () => {
  it('when a scope is given, then every object of the run carries the same suffix under it', () => {
    const n = runNames('client', { suffix: 'abc123' });
    expect(n.database).toBe('t_client_abc123');
    expect(n.exchange).toBe('t.client.abc123');
    expect(n.queuePrefix('chat')).toBe('t.client.abc123.chat');
    expect(n.redisPrefix('user')).toBe('t:client:abc123:user');
    expect(n.redisPattern).toBe('t:client:abc123:*');
  });

  it('when the benchmark names its run, then the root replaces `t` and the scope may be empty', () => {
    const n = runNames('', { root: 'bench', suffix: 'x1' });
    expect([n.database, n.exchange, n.redisPrefix('chat')]).toEqual(['bench_x1', 'bench.x1', 'bench:x1:chat']);
  });

  it('when called twice without a suffix, then the runs do not share names', () => {
    expect(runNames('chat').exchange).not.toBe(runNames('chat').exchange);
  });
});

describe('newPerson', () => {
  it('when two people are made with one tag, then ids, addresses and usernames differ', () => {
    const [a, b] = [newPerson('Alice'), newPerson('Alice')];
    expect(a.userId).not.toBe(b.userId);
    expect(a.email).not.toBe(b.email);
    expect(a.username).toMatch(/^[a-z0-9]+$/);
    expect(a.username).not.toBe(b.username);
  });
});

describe('TokenIssuer', () => {
  it('when it mints a token, then the services’ verifier accepts it in-process and through the served JWKS', async () => {
    const issuer = await TokenIssuer.create();
    const token = await issuer.mint('user-1');
    await expect(issuer.verifyToken(token)).resolves.toMatchObject({ userId: 'user-1' });
    const served = await issuer.serve();
    try {
      expect(served.url.endsWith(JWKS_PATH)).toBe(true);
      await expect(createTokenVerifier(served.url)(token)).resolves.toMatchObject({ userId: 'user-1' });
    } finally {
      await served.close();
    }
  });

  it('when it mints, then auth_time is a fresh login by default, the given login time, or absent', async () => {
    const issuer = await TokenIssuer.create();
    const now = Math.floor(Date.now() / 1000);
    const fresh = await issuer.verifyToken(await issuer.mint('user-1'));
    expect(now - (fresh.authTime as number)).toBeLessThanOrEqual(6);
    expect((await issuer.verifyToken(await issuer.mint('user-1', 900, { authTime: now - 3600 }))).authTime).toBe(now - 3600);
    expect((await issuer.verifyToken(await issuer.mint('user-1', 900, { authTime: null }))).authTime).toBeUndefined();
  });

  it('when it mints with a negative lifetime, then the token is refused as expired', async () => {
    const issuer = await TokenIssuer.create();
    await expect(issuer.verifyToken(await issuer.mint('user-1', -60))).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('when another issuer minted the token, then it is refused', async () => {
    const [a, b] = [await TokenIssuer.create(), await TokenIssuer.create()];
    await expect(a.verifyToken(await b.mint('user-1'))).rejects.toMatchObject({ code: 'unauthorized' });
  });
});

describe('freePort', () => {
  it('when a port is returned, then a server can listen on it', async () => {
    const port = await freePort();
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    expect(port).toBeGreaterThan(0);
  });
});
