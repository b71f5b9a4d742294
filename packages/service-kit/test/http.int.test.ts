import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { QueryFailedError } from 'typeorm';
import {
  AppError,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  createHttpApp,
  createLogger,
  createMetrics,
  createTokenVerifier,
  finishHttpApp,
  requireAuth,
  requireSameOrigin,
  authUserId,
  validate,
} from '../src/index.js';
import { LogCapture } from '../src/testing/index.js';

/** The error body every service answers with. */
type ErrorJson = { error: { code: string; message: string; details: Array<{ path: string }> } };

describe('http app basics', () => {
  const logs = new LogCapture();
  const logger = createLogger('http-test', 'info', logs);
  let server: Server;
  let base: string;
  let ready = true;
  let sign: (claims: Record<string, unknown>, opts?: { exp?: string; alg?: string }) => Promise<string>;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    sign = (claims, opts = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setExpirationTime(opts.exp ?? '15m')
        .sign(privateKey);
    const verify = createTokenVerifier({ keys: [jwk] });
    const app = createHttpApp({ logger, metrics: createMetrics('http-test', false), readiness: { db: async () => ready } });
    app.post('/echo', (req, res) => {
      const body = validate(z.strictObject({ name: z.string().min(1), age: z.number().int() }), req.body);
      res.json(body);
    });
    app.get('/boom', () => {
      throw new Error('secret internal detail');
    });
    app.get('/db-error', () => {
      throw new QueryFailedError('SELECT 1 WHERE "email" = $1', ['db-param@example.com'], new Error('relation does not exist'));
    });
    app.get('/teapot', () => {
      throw new AppError(409, 'conflict', 'already there');
    });
    app.get('/me', requireAuth(verify), (req, res) => {
      res.json({ userId: authUserId(req) });
    });
    app.post('/state', requireSameOrigin(['http://localhost:8080']), (_req, res) => {
      res.json({ ok: true });
    });
    finishHttpApp(app, logger);
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  it('when the body is not JSON, then 400 invalid_json', async () => {
    const res = await post('/echo', '{nope');
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorJson).error.code).toBe('invalid_json');
  });

  it('when the body breaks the schema, then 400 lists every issue', async () => {
    const res = await post('/echo', JSON.stringify({ name: '', age: 1.5, extra: true }));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorJson;
    expect(error.code).toBe('validation_error');
    expect(error.details.map((d: { path: string }) => d.path).sort()).toEqual(['', 'age', 'name']);
  });

  it('when a handler throws an unknown error, then 500 with a generic message and the detail only in the log', async () => {
    const res = await fetch(`${base}/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret internal detail');
    expect(JSON.parse(text).error).toEqual({ code: 'internal_error', message: 'internal error' });
    expect(logs.text()).toContain('secret internal detail');
  });

  it('when a database error reaches the error middleware, then it is logged without its query parameters', async () => {
    expect((await fetch(`${base}/db-error`)).status).toBe(500);
    expect(logs.text()).toContain('QueryFailedError');
    expect(logs.text()).not.toContain('db-param@example.com');
  });

  it('when an AppError is thrown, then its status and code are answered; unknown routes get 404', async () => {
    expect((await fetch(`${base}/teapot`)).status).toBe(409);
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorJson).error.code).toBe('not_found');
  });

  it('when a dependency is down, then /ready answers 503 naming it while /health stays 200', async () => {
    ready = false;
    const res = await fetch(`${base}/ready`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { checks: unknown }).checks).toEqual({ db: false });
    expect((await fetch(`${base}/health`)).status).toBe(200);
    ready = true;
    expect((await fetch(`${base}/ready`)).status).toBe(200);
  });

  it('when /metrics is scraped, then the request histogram is there', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('http_request_duration_seconds_bucket');
  });

  it('when a valid ES256 token is sent as bearer or cookie, then the user is known', async () => {
    const token = await sign({ sub: 'u1', sid: 's1' });
    expect(await (await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } })).json()).toEqual({ userId: 'u1' });
    expect(await (await fetch(`${base}/me`, { headers: { cookie: `cc_access=${token}` } })).json()).toEqual({ userId: 'u1' });
  });

  it('when a token is expired, unsigned (alg none) or HS256, then 401', async () => {
    const expired = await sign({ sub: 'u1', sid: 's1' }, { exp: '-1m' });
    const expiredRes = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${expired}` } });
    expect(expiredRes.status).toBe(401);
    expect(((await expiredRes.json()) as ErrorJson).error.code).toBe('token_expired');

    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = { sub: 'u1', sid: 's1', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 };
    const none = `${b64({ alg: 'none', kid: 'k1' })}.${b64(claims)}.`;
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode('k'.repeat(32)));
    for (const token of [none, hs, 'garbage']) {
      const res = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
    }
  });

  it('when a cookie-carrying state change comes from another origin, then 403; same origin passes', async () => {
    const evil = await post('/state', '{}', { cookie: 'cc_access=x', origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as ErrorJson).error.code).toBe('origin_not_allowed');
    expect((await post('/state', '{}', { cookie: 'cc_access=x', origin: 'http://localhost:8080' })).status).toBe(200);
  });
});
