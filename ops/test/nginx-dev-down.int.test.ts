import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiClient, ApiError } from '@cipherchat/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectJsonError, startStuckService } from './support/edge-errors.js';
import { freePort, request } from './support/net.js';
import { startNginx, type NginxHandle } from './support/nginx.js';

let webRoot: string;

describe('dev nginx config with its services down (real Debian nginx)', () => {
  let down: NginxHandle;
  let stuck: { port: number; close(): void };

  beforeAll(async () => {
    webRoot = mkdtempSync(path.join(tmpdir(), 'cc-web-'));
    chmodSync(webRoot, 0o755);
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>CipherChat</title>');
    const dead = await freePort(); // nothing listens there
    stuck = await startStuckService();
    down = await startNginx('nginx/dev.conf.template', {
      USER_UPSTREAM: `server 127.0.0.1:${dead};`,
      CHAT_UPSTREAM: `server 127.0.0.1:${stuck.port};`,
      NOTIFY_UPSTREAM: `server 127.0.0.1:${dead};`,
      WEB_ROOT: webRoot,
    });
  });

  afterAll(async () => {
    await down?.stop();
    stuck?.close();
    if (webRoot) rmSync(webRoot, { recursive: true, force: true });
  });

  it('when a service is down, then every API route answers 502 in the JSON shape and the SDK reads unavailable', async () => {
    for (const [p, method] of [
      ['/api/user/me', 'GET'],
      ['/api/user/auth/login/start', 'POST'],
      ['/api/notifications/preferences', 'PUT'],
    ] as const) {
      const res = await request(down.port, p, {
        method,
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expectJsonError(res, 502, 'unavailable', p);
    }
    const sdk = new ApiClient({ baseUrl: `http://127.0.0.1:${down.port}` });
    const err = await sdk.request('user', 'GET', '/me').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 502, code: 'unavailable' });
    // The web client itself is still served.
    expect((await request(down.port, '/')).text).toContain('<title>CipherChat</title>');
  });

  it('when a service takes no connection, then 504 in the JSON shape after the connect timeout, and Socket.IO and attachments get JSON too', async () => {
    const slow = await request(down.port, '/api/chat/conversations', { timeoutMs: 15_000 });
    expectJsonError(slow, 504, 'unavailable', '/api/chat/conversations');
    for (const [p, method] of [
      ['/socket.io/?EIO=4&transport=polling', 'GET'],
      ['/api/chat/attachments', 'POST'],
    ] as const) {
      const res = await request(down.port, p, { method, body: 'x', timeoutMs: 15_000 });
      expect([502, 504], p).toContain(res.status);
      expectJsonError(res, res.status, 'unavailable', p);
    }
  });
});
