import { createHmac } from 'node:crypto';
import { SignJWT, importJWK, exportSPKI, type CryptoKey, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, createTokenVerifier, type TokenVerifier } from '@cipherchat/service-kit';
import { generateSecrets } from '../src/testing.js';
import { call, createHarness, login, newAccount, register, type Harness } from './support/harness.js';

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('access tokens and JWKS (another service verifies with the public JWKS alone)', () => {
  let h: Harness;
  let base: string;
  let app: Awaited<ReturnType<Harness['startApp']>>['app'];
  let jwks: JSONWebKeySet;
  let verify: TokenVerifier;
  let good: { accessToken: string; user: { id: string } };
  let privateJwk: { kid: string; [k: string]: unknown };

  beforeAll(async () => {
    h = await createHarness('tokens');
    ({ url: base, app } = await h.startApp());
    const res = await fetch(`${base}/api/user/.well-known/jwks.json`);
    jwks = (await res.json()) as JSONWebKeySet;
    verify = createTokenVerifier(jwks);
    const acc = newAccount('tok');
    await register(base, acc);
    good = (await login(base, acc)).finish!.body;
    privateJwk = (JSON.parse(h.secrets.JWT_PRIVATE_KEYS) as { kid: string }[])[0]!;
  });
  afterAll(async () => {
    await h?.close();
  });

  const signWith = async (claims: Record<string, unknown>, opts: { exp?: number; iss?: string; aud?: string } = {}) => {
    const key = (await importJWK({ ...privateJwk, alg: 'ES256' }, 'ES256')) as CryptoKey;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid })
      .setSubject(good.user.id)
      .setIssuer(opts.iss ?? TOKEN_ISSUER)
      .setAudience(opts.aud ?? TOKEN_AUDIENCE)
      .setIssuedAt(now - 1000)
      .setExpirationTime(opts.exp ?? now + 600)
      .sign(key);
  };

  it('when the JWKS is published, then it holds only public ES256 keys with kid', () => {
    expect(jwks.keys).toHaveLength(1);
    const [k] = jwks.keys;
    expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: privateJwk.kid });
    expect(k).not.toHaveProperty('d');
  });

  it('when a real access token is checked with the JWKS alone (fetched over HTTP), then it verifies with sub and sid', async () => {
    const claims = await verify(good.accessToken);
    expect(claims.userId).toBe(good.user.id);
    expect(claims.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(900);
    const remote = createTokenVerifier(`${base}/api/user/.well-known/jwks.json`);
    expect((await remote(good.accessToken)).userId).toBe(good.user.id);
    const header = JSON.parse(Buffer.from(good.accessToken.split('.')[0]!, 'base64url').toString()) as { kid: string; alg: string };
    expect(header).toMatchObject({ alg: 'ES256', kid: privateJwk.kid });
  });

  it('when a session logs in and later refreshes, then every access token carries the login time as auth_time, never the refresh time', async () => {
    const acc = newAccount('authtime');
    const before = Math.floor(Date.now() / 1000);
    const reg = await register(base, acc);
    const regClaims = await verify(reg.body.accessToken as string);
    expect(regClaims.authTime).toBeGreaterThanOrEqual(before - 1);
    expect(regClaims.authTime).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const { finish } = await login(base, acc);
    const first = await verify(finish!.body.accessToken as string);
    const [row] = (await app.ds.query(`SELECT EXTRACT(EPOCH FROM created_at)::float AS at FROM users.sessions WHERE id = $1`, [first.sessionId])) as { at: number }[];
    expect(first.authTime).toBe(Math.floor(row!.at));
    // Two hours later (the session's login moved back in the database), a refresh is still the
    // same login: the new token says when that login was, so it is not "fresh".
    await app.ds.query(`UPDATE users.sessions SET created_at = created_at - interval '2 hours' WHERE id = $1`, [first.sessionId]);
    const refreshed = await call(base, 'POST', '/auth/refresh', { refreshToken: finish!.body.refreshToken });
    expect(refreshed.status).toBe(200);
    const after = await verify(refreshed.body.accessToken as string);
    expect(after.sessionId).toBe(first.sessionId);
    expect(after.authTime).toBe((first.authTime as number) - 7200);
    expect(Math.floor(Date.now() / 1000) - (after.authTime as number)).toBeGreaterThanOrEqual(7200);
  });

  it('when a token has expired, then it is refused as token_expired', async () => {
    const expired = await signWith({ sid: '00000000-0000-4000-8000-000000000000' }, { exp: Math.floor(Date.now() / 1000) - 60 });
    await expect(verify(expired)).rejects.toMatchObject({ code: 'token_expired', status: 401 });
    expect((await call(base, 'GET', '/me', undefined, { authorization: `Bearer ${expired}` })).status).toBe(401);
  });

  it('when a token is tampered with, then it is refused', async () => {
    const [head, payload, sig] = good.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${head}.${b64url({ ...claims, sub: '11111111-1111-4111-8111-111111111111' })}.${sig}`;
    await expect(verify(forged)).rejects.toMatchObject({ status: 401 });
    // flip one byte in the middle of the decoded signature: editing the last base64url char
    // can leave the bytes unchanged (its low bits are padding)
    const sigBytes = Buffer.from(sig, 'base64url');
    const mid = sigBytes.length >> 1;
    sigBytes[mid] = (sigBytes[mid] ?? 0) ^ 0x01;
    const flipped = `${head}.${payload}.${sigBytes.toString('base64url')}`;
    expect(flipped).not.toBe(good.accessToken);
    await expect(verify(flipped)).rejects.toMatchObject({ status: 401 });
    expect((await call(base, 'GET', '/me', undefined, { authorization: `Bearer ${forged}` })).status).toBe(401);
  });

  it('when a token says alg none, then it is refused', async () => {
    const [, payload] = good.accessToken.split('.') as [string, string];
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64url({ alg, typ: 'JWT', kid: privateJwk.kid })}.${payload}.`;
      await expect(verify(unsigned)).rejects.toMatchObject({ status: 401 });
      expect((await call(base, 'GET', '/me', undefined, { authorization: `Bearer ${unsigned}` })).status).toBe(401);
    }
  });

  it('when a token is HS256-signed with the public key as the secret, then it is refused', async () => {
    const [, payload] = good.accessToken.split('.') as [string, string];
    const pub = jwks.keys[0]!;
    const pem = await exportSPKI((await importJWK(pub, 'ES256')) as CryptoKey);
    for (const secret of [pem, JSON.stringify(pub), Buffer.from(`${pub.x}${pub.y}`)]) {
      const head = b64url({ alg: 'HS256', typ: 'JWT', kid: privateJwk.kid });
      const sig = createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url');
      const token = `${head}.${payload}.${sig}`;
      await expect(verify(token)).rejects.toMatchObject({ status: 401 });
      expect((await call(base, 'GET', '/me', undefined, { authorization: `Bearer ${token}` })).status).toBe(401);
    }
  });

  it('when a token is signed by another key, or for another issuer or audience, then it is refused', async () => {
    const other = (JSON.parse((await generateSecrets()).JWT_PRIVATE_KEYS) as Record<string, unknown>[])[0]!;
    const key = (await importJWK({ ...other, alg: 'ES256' }, 'ES256')) as CryptoKey;
    const wrongKey = await new SignJWT({ sid: '00000000-0000-4000-8000-000000000000' })
      .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid })
      .setSubject(good.user.id)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setExpirationTime('5m')
      .sign(key);
    await expect(verify(wrongKey)).rejects.toMatchObject({ status: 401 });
    await expect(verify(await signWith({ sid: 'x' }, { iss: 'someone-else' }))).rejects.toMatchObject({ status: 401 });
    await expect(verify(await signWith({ sid: 'x' }, { aud: 'other-app' }))).rejects.toMatchObject({ status: 401 });
    await expect(verify(await signWith({}))).rejects.toMatchObject({ status: 401 }); // no sid
  });

  it('when the signing key rotates, then the JWKS publishes both and tokens signed with the old key still verify', async () => {
    const fresh = (JSON.parse((await generateSecrets()).JWT_PRIVATE_KEYS) as unknown[])[0];
    const rotated = JSON.stringify([fresh, privateJwk]);
    const { url } = await h.startApp({ JWT_PRIVATE_KEYS: rotated });
    const jwks2 = (await (await fetch(`${url}/api/user/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    expect(jwks2.keys.map((k) => k.kid)).toEqual([(fresh as { kid: string }).kid, privateJwk.kid]);
    const v2 = createTokenVerifier(jwks2);
    expect((await v2(good.accessToken)).userId).toBe(good.user.id);
    const acc = newAccount('rot');
    await register(url, acc);
    const t2 = (await login(url, acc)).finish!.body.accessToken as string;
    expect(JSON.parse(Buffer.from(t2.split('.')[0]!, 'base64url').toString()).kid).toBe((fresh as { kid: string }).kid);
    expect((await v2(t2)).userId).toBeTruthy();
    await expect(verify(t2)).rejects.toMatchObject({ status: 401 }); // the old JWKS does not know the new key
  });
});
