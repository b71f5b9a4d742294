import {
  chmodSync,
  existsSync,
  mkdtempSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from '@cipherchat/client';
import WebSocket from 'ws';
import { expectJsonError } from './support/edge-errors.js';
import { request } from './support/net.js';
import { render, startNginx, type NginxHandle } from './support/nginx.js';
import { startEchoService, type EchoService } from './support/upstreams.js';

let user: EchoService;
let chatA: EchoService;
let chatB: EchoService;
let notify: EchoService;
let nginx: NginxHandle;
let webRoot: string;

const bundle = 'console.log("cipherchat");\n'.repeat(200);

beforeAll(async () => {
  [user, chatA, chatB, notify] = await Promise.all([
    startEchoService('user-service'),
    startEchoService('chat-service'),
    startEchoService('chat-service'),
    startEchoService('notification-service'),
  ]);
  webRoot = mkdtempSync(path.join(tmpdir(), 'cc-web-'));
  // mkdtemp makes 0700; nginx workers (nobody when started as root) must read the files.
  chmodSync(webRoot, 0o755);
  mkdirSync(path.join(webRoot, 'assets'));
  writeFileSync(
    path.join(webRoot, 'index.html'),
    '<!doctype html><title>CipherChat</title><script type="module" src="/assets/index-abc123.js"></script>',
  );
  writeFileSync(path.join(webRoot, 'assets/index-abc123.js'), bundle);
  writeFileSync(path.join(webRoot, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  nginx = await startNginx('nginx/dev.conf.template', {
    USER_UPSTREAM: `server 127.0.0.1:${user.port};`,
    CHAT_UPSTREAM: `server 127.0.0.1:${chatA.port};\n    server 127.0.0.1:${chatB.port};`,
    NOTIFY_UPSTREAM: `server 127.0.0.1:${notify.port};`,
    WEB_ROOT: webRoot,
    PUBLIC_BASE_URL: 'https://chat.example.org/app/',
  });
});

afterAll(async () => {
  await nginx?.stop();
  await Promise.all([user, chatA, chatB, notify].map((s) => s?.close()));
  if (webRoot) rmSync(webRoot, { recursive: true, force: true });
});

function openSocket(
  urlPath: string,
): Promise<{ greeting: { service: string; url: string }; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${nginx.port}${urlPath}`);
    const timer = setTimeout(() => reject(new Error('no websocket greeting')), 5000);
    ws.once('message', (data) => {
      clearTimeout(timer);
      resolve({ greeting: JSON.parse(String(data)) as { service: string; url: string }, ws });
    });
    ws.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('dev nginx config (real Debian nginx)', () => {
  it('when a client sends its own X-Forwarded-For and X-Real-IP, then the upstreams see only the address nginx saw', async () => {
    const forged = {
      'x-forwarded-for': '203.0.113.7, 10.0.0.1',
      'x-real-ip': '203.0.113.8',
    };
    const api = await request(nginx.port, '/api/user/auth/login/start', {
      method: 'POST',
      headers: { ...forged, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(api.status).toBe(200);
    const seenByUser = user.seen.at(-1)!;
    expect(seenByUser.url).toBe('/api/user/auth/login/start');
    expect(seenByUser.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seenByUser.headers['x-real-ip']).toBe('127.0.0.1');
    // Socket.IO's location sets its own headers (Upgrade): it must not fall back to passing
    // the client's, nor drop the client address.
    const before = chatA.seen.length + chatB.seen.length;
    const polling = await request(nginx.port, '/socket.io/?EIO=4&transport=polling', {
      headers: forged,
    });
    expect(polling.status).toBe(200);
    const seenByChat = [...chatA.seen, ...chatB.seen].slice(before).at(-1)!;
    expect(seenByChat.url).toContain('/socket.io/');
    expect(seenByChat.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seenByChat.headers['x-real-ip']).toBe('127.0.0.1');
    expect(seenByChat.headers.host).toBe('127.0.0.1');
    expect(seenByChat.headers['x-request-id']).toMatch(/\S/);
  });

  it('when API paths are requested, then each reaches its own service with the full prefix kept', async () => {
    const cases: Array<[string, string]> = [
      ['/api/user/me', 'user-service'],
      ['/api/user/.well-known/jwks.json', 'user-service'],
      ['/api/chat/conversations?limit=5', 'chat-service'],
      ['/api/notifications/preferences', 'notification-service'],
    ];
    for (const [p, service] of cases) {
      const res = await request(nginx.port, p);
      expect(res.status, p).toBe(200);
      const body = JSON.parse(res.text) as { service: string; url: string };
      expect(body.service).toBe(service);
      expect(body.url).toBe(p);
    }
  });

  it('when a request has no X-Request-Id, then nginx mints one and forwards it; a well-formed one is kept', async () => {
    const minted = JSON.parse((await request(nginx.port, '/api/user/me')).text) as {
      requestId: string;
    };
    expect(minted.requestId).toMatch(/^[0-9a-f]{32}$/);
    const kept = JSON.parse(
      (await request(nginx.port, '/api/user/me', { headers: { 'x-request-id': 'req-12345678' } }))
        .text,
    ) as {
      requestId: string;
    };
    expect(kept.requestId).toBe('req-12345678');
    const bad = JSON.parse(
      (await request(nginx.port, '/api/user/me', { headers: { 'x-request-id': 'x"; drop' } })).text,
    ) as {
      requestId: string;
    };
    expect(bad.requestId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('when a WebSocket connects to /socket.io/, then it is upgraded through to chat-service and echoes', async () => {
    const { greeting, ws } = await openSocket('/socket.io/?EIO=4&transport=websocket');
    expect(greeting.service).toBe('chat-service');
    expect(greeting.url).toBe('/socket.io/?EIO=4&transport=websocket');
    const echoed = await new Promise<string>((resolve) => {
      ws.once('message', (d) => resolve(String(d)));
      ws.send('ping-42');
    });
    expect(echoed).toBe('ping-42');
    ws.close();
  });

  it('when WebSockets connect to the other prefixes, then each is upgraded to its own service', async () => {
    for (const [p, service] of [
      ['/api/user/ws-probe', 'user-service'],
      ['/api/notifications/ws-probe', 'notification-service'],
    ] as const) {
      // Only /socket.io/ forwards the Upgrade header: other prefixes must not become sockets.
      await expect(openSocket(p), service).rejects.toThrow();
    }
  });

  it('when the same client polls Socket.IO repeatedly, then every request lands on the same chat instance', async () => {
    const before = [chatA.seen.length, chatB.seen.length];
    for (let i = 0; i < 10; i += 1) {
      const res = await request(nginx.port, `/socket.io/?EIO=4&transport=polling&t=${i}`);
      expect(res.status).toBe(200);
    }
    const delta = [chatA.seen.length - before[0]!, chatB.seen.length - before[1]!];
    expect(delta.sort((a, b) => a - b)).toEqual([0, 10]);
  });

  it('when a browser route is requested, then index.html is served with no-cache and the security headers', async () => {
    const res = await request(nginx.port, '/conversations/123');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<title>CipherChat</title>');
    expect(res.headers['cache-control']).toBe('no-cache');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).not.toContain('unsafe-inline');
    // Images from this origin only: attachments are proxied through chat-service.
    expect(csp).toContain("img-src 'self' data: blob:;");
    expect(csp).not.toContain('cloudinary');
    // The WebSocket origin of PUBLIC_BASE_URL (https -> wss, path dropped), nothing else.
    expect(csp).toContain("connect-src 'self' wss://chat.example.org;");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['permissions-policy']).toContain('camera=()');
    expect(res.headers['permissions-policy']).toContain('microphone=(self)');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(res.headers.server).toBe('nginx');
  });

  it('when a request carries a hostile Host header, then the CSP still names only the configured origin', async () => {
    for (const host of ['evil.example', 'evil.example:443', "x; script-src 'unsafe-inline'"]) {
      for (const p of ['/', '/api/user/me', '/api/unknown']) {
        const res = await request(nginx.port, p, { headers: { host } });
        const csp = String(res.headers['content-security-policy']);
        expect(csp, `${host} ${p}`).not.toContain('evil');
        expect(csp, `${host} ${p}`).not.toContain('unsafe-inline');
        expect(csp, `${host} ${p}`).toContain("connect-src 'self' wss://chat.example.org;");
      }
    }
  });

  it('when PUBLIC_BASE_URL is not a plain http(s) origin, then the render script exits 2 and writes nothing', () => {
    const out = path.join(nginx.runDir, 'csp-probe.conf');
    const vars = { ...nginx.vars };
    const cspOf = (publicBaseUrl: string) => {
      render('nginx/dev.conf.template', out, { ...vars, PUBLIC_BASE_URL: publicBaseUrl });
      const conf = readFileSync(out, 'utf8');
      rmSync(out);
      return /connect-src 'self' ([^;]*);/.exec(conf)?.[1];
    };
    expect(cspOf('http://localhost:8080/')).toBe('ws://localhost:8080');
    expect(cspOf('https://chat.example.org:8443/app')).toBe('wss://chat.example.org:8443');
    for (const bad of [
      'https://x.org"; add_header X 1',
      "https://x.org; script-src 'unsafe-inline'",
      'https://evil example',
      'javascript:alert(1)',
      'ftp://chat.example.org',
    ]) {
      let failure: { status?: number; message?: string } = {};
      try {
        cspOf(bad);
      } catch (e) {
        failure = e as typeof failure;
      }
      expect(failure.status, bad).toBe(2);
      expect(failure.message, bad).toContain('PUBLIC_BASE_URL must be');
      expect(existsSync(out), bad).toBe(false);
    }
  });

  it('when a mail client on another origin loads the logo, then nginx lets it embed that one file', async () => {
    const res = await request(nginx.port, '/logo.png');
    expect(res.status).toBe(200);
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });

  it('when a hashed asset is requested with gzip, then it is compressed and cached for a year as immutable', async () => {
    const res = await request(nginx.port, '/assets/index-abc123.js', {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gunzipSync(res.body).toString()).toBe(bundle);
    const missing = await request(nginx.port, '/assets/nope-000.js');
    expect(missing.status).toBe(404);
  });

  it('when an API response is proxied, then it is neither gzipped nor given a cache header by nginx', async () => {
    const res = await request(nginx.port, '/api/user/me', {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['cache-control']).toBeUndefined();
    expect(res.headers['content-security-policy']).toBeDefined();
  });

  it('when a body exceeds the limit, then 413; attachments accept large bodies and stream them to chat-service', async () => {
    const twoMb = Buffer.alloc(2 * 1024 * 1024, 7);
    const tooBig = await request(nginx.port, '/api/user/me', {
      method: 'PATCH',
      body: twoMb,
      headers: { 'content-type': 'application/json' },
    });
    expectJsonError(tooBig, 413, 'payload_too_large', '/api/user/me');
    const chatTooBig = await request(nginx.port, '/api/chat/backup', {
      method: 'PUT',
      body: Buffer.alloc(5 * 1024 * 1024, 1),
    });
    expectJsonError(chatTooBig, 413, 'payload_too_large', '/api/chat/backup');
    // The web client's paths keep nginx's own page.
    const pageTooBig = await request(nginx.port, '/conversations', { method: 'POST', body: twoMb });
    expect(pageTooBig.status).toBe(413);
    expect(pageTooBig.headers['content-type']).toBe('text/html');
    expect(user.seen.some((s) => s.bytes >= twoMb.length)).toBe(false);
    const upload = await request(nginx.port, '/api/chat/attachments', {
      method: 'POST',
      body: Buffer.alloc(20 * 1024 * 1024, 9),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(upload.status).toBe(200);
    expect(JSON.parse(upload.text)).toMatchObject({
      service: 'chat-service',
      bytes: 20 * 1024 * 1024,
    });
  });

  it("when a service answers an error itself, then nginx passes the service's answer unchanged", async () => {
    for (const status of [400, 404, 413, 429, 500, 503]) {
      const res = await request(nginx.port, `/api/user/me?status=${status}`);
      expect(res.status).toBe(status);
      expect(JSON.parse(res.text)).toEqual({
        error: {
          code: 'from_service',
          message: 'user-service',
          details: { status: String(status) },
        },
      });
    }
  });

  it('when an unknown API prefix is requested, then a JSON 404 in the error shape', async () => {
    const res = await request(nginx.port, '/api/unknown/x');
    expectJsonError(res, 404, 'not_found', '/api/unknown/x');
    // Never typed from the path's extension.
    const html = await request(nginx.port, '/api/unknown/page.html');
    expectJsonError(html, 404, 'not_found', '/api/unknown/page.html');
  });

  it('when one address floods /api/user/auth/, then nginx answers 429 past the burst and other routes still work', async () => {
    // The SDK, in the same flood, reads the edge's answer as the code it switches on.
    const sdk = new ApiClient({ baseUrl: `http://127.0.0.1:${nginx.port}` });
    const [replies, sdkErrors] = await Promise.all([
      Promise.all(
        Array.from({ length: 120 }, () =>
          request(nginx.port, '/api/user/auth/login/start', {
            method: 'POST',
            body: '{}',
            headers: { 'content-type': 'application/json' },
          }),
        ),
      ),
      Promise.all(
        Array.from({ length: 10 }, () =>
          sdk
            .request('user', 'POST', '/auth/login/start', { json: {}, auth: false })
            .then(() => undefined)
            .catch((e: unknown) => e),
        ),
      ),
    ]);
    const limited = replies.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) expectJsonError(r, 429, 'rate_limited', 'flood');
    expect(replies.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    const refused = sdkErrors.filter((e) => e !== undefined);
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) {
      expect(e).toBeInstanceOf(ApiError);
      expect(e).toMatchObject({ status: 429, code: 'rate_limited' });
    }
    expect((await request(nginx.port, '/api/user/me')).status).toBe(200);
  });
});
