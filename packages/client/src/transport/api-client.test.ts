import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.js';
import { ApiError } from './api-error.js';
import { SocketAckError } from './socket-client.js';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const AUTH = {
  user: {
    id: '5b0e6c1e-8f3a-4c1b-9d2e-0a1b2c3d4e5f',
    username: 'alice',
    displayName: 'Alice',
    email: 'a@example.org',
    emailVerified: false,
    createdAt: '2026-01-01T00:00:00.000Z',
  },
  accessToken: 'new-access',
  refreshToken: 'new-refresh',
  accessTokenExpiresAt: '2026-01-01T00:15:00.000Z',
};

describe('ApiClient', () => {
  it('when a service answers an error body, then it throws a typed ApiError with code and details', async () => {
    const api = new ApiClient({
      baseUrl: 'http://x',
      fetch: async () => json(422, { error: { code: 'invalid_signature', message: 'bad', details: { field: 'sig' } } }),
    });
    const err = await api.request('chat', 'PUT', '/devices/1/keys', { json: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, code: 'invalid_signature', details: { field: 'sig' } });
  });

  it('when the access token expired, then it refreshes once, retries, and sends the new bearer token', async () => {
    const calls: Array<{ url: string; auth: string | null; body: unknown }> = [];
    const api = new ApiClient({
      baseUrl: 'http://x',
      fetch: async (input, init) => {
        const url = String(input);
        const headers = new Headers(init?.headers);
        calls.push({ url, auth: headers.get('authorization'), body: init?.body ? JSON.parse(String(init.body)) : undefined });
        if (url.endsWith('/auth/refresh')) return json(200, AUTH);
        if (headers.get('authorization') === 'Bearer old-access') {
          return json(401, { error: { code: 'token_expired', message: 'expired' } });
        }
        return json(200, { conversations: [] });
      },
    });
    api.setTokens({ accessToken: 'old-access', refreshToken: 'old-refresh' });
    const results = await Promise.all([
      api.request('chat', 'GET', '/conversations'),
      api.request('chat', 'GET', '/conversations'),
    ]);
    expect(results).toEqual([{ conversations: [] }, { conversations: [] }]);
    const refreshes = calls.filter((c) => c.url === 'http://x/api/user/auth/refresh');
    expect(refreshes).toHaveLength(1); // concurrent 401s share one refresh
    expect(refreshes[0]?.body).toEqual({ refreshToken: 'old-refresh' });
    expect(api.getTokens()?.accessToken).toBe('new-access');
    expect(calls.at(-1)?.auth).toBe('Bearer new-access');
  });

  it('when the refresh fails or the 401 is not token_expired, then the error surfaces without looping', async () => {
    let n = 0;
    const api = new ApiClient({
      baseUrl: 'http://x',
      fetch: async (input) => {
        n += 1;
        if (String(input).endsWith('/auth/refresh')) return json(401, { error: { code: 'unauthorized', message: 'no' } });
        return json(401, { error: { code: 'token_expired', message: 'expired' } });
      },
    });
    api.setTokens({ accessToken: 'a', refreshToken: 'r' });
    await expect(api.request('chat', 'GET', '/backup')).rejects.toMatchObject({ code: 'token_expired' });
    expect(n).toBe(2);
  });

  it('when a kept-alive connection fails once, then an idempotent request is sent again and a POST is not', async () => {
    const calls: string[] = [];
    const flaky = new ApiClient({
      baseUrl: 'http://x',
      fetch: async (_input, init) => {
        calls.push(init?.method ?? 'GET');
        if (calls.length % 2 === 1) throw new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'ECONNRESET' }) });
        return json(200, { ok: true });
      },
    });
    await expect(flaky.request('chat', 'PUT', '/devices/1/keys', { json: {} })).resolves.toEqual({ ok: true });
    expect(calls).toEqual(['PUT', 'PUT']);
    calls.length = 0;
    await expect(flaky.request('chat', 'POST', '/devices', { json: {} })).rejects.toMatchObject({ code: 'network_error' });
    expect(calls).toEqual(['POST']);
  });

  it('when the network fails or the answer is not JSON, then it throws network_error / bad_response', async () => {
    const down = new ApiClient({ baseUrl: 'http://x', fetch: async () => Promise.reject(new TypeError('refused')) });
    await expect(down.request('user', 'GET', '/me')).rejects.toMatchObject({ code: 'network_error', status: 0 });
    const html = new ApiClient({ baseUrl: 'http://x', fetch: async () => new Response('<html>', { status: 200 }) });
    await expect(html.request('user', 'GET', '/me')).rejects.toMatchObject({ code: 'bad_response' });
  });
});

describe('ApiClient behind a proxy', () => {
  it("when the edge answers its own errors in the JSON shape (nginx on /api/), then the code is the edge's", async () => {
    for (const [status, code] of [
      [429, 'rate_limited'],
      [413, 'payload_too_large'],
      [502, 'unavailable'],
      [504, 'unavailable'],
    ] as const) {
      const api = new ApiClient({ baseUrl: 'http://x', fetch: async () => json(status, { error: { code, message: 'edge', details: null } }) });
      const err = await api.request('user', 'POST', '/auth/login/start', { json: {} }).catch((e: unknown) => e);
      expect(err, String(status)).toMatchObject({ status, code, message: 'edge' });
    }
  });

  it('when a proxy in front answers an HTML page instead, then the status still gives the code', async () => {
    for (const [status, code] of [
      [429, 'rate_limited'],
      [413, 'payload_too_large'],
      [503, 'unavailable'],
      [401, 'unauthorized'],
      [403, 'http_error'],
    ] as const) {
      const api = new ApiClient({
        baseUrl: 'http://x',
        fetch: async () => new Response('<html><body><h1>Error</h1></body></html>', { status, headers: { 'content-type': 'text/html' } }),
      });
      const err = await api.request('chat', 'PUT', '/backup', { json: {}, auth: false }).catch((e: unknown) => e);
      expect(err, String(status)).toBeInstanceOf(ApiError);
      expect(err, String(status)).toMatchObject({ status, code });
    }
  });
});

describe('ApiClient in cookie mode (browser)', () => {
  it('when a call answers 401 unauthorized (the expired cookie is gone), then it refreshes once, with credentials, and retries', async () => {
    const calls: Array<{ url: string; credentials: RequestCredentials | undefined; auth: string | null; client: string | null }> = [];
    let refreshed = false;
    const api = new ApiClient({
      baseUrl: '',
      auth: 'cookies',
      fetch: async (input, init) => {
        const url = String(input);
        const headers = new Headers(init?.headers);
        calls.push({ url, credentials: init?.credentials, auth: headers.get('authorization'), client: headers.get('x-client') });
        if (url === '/api/user/auth/refresh') {
          refreshed = true;
          return json(200, AUTH);
        }
        if (!refreshed) return json(401, { error: { code: 'unauthorized', message: 'no token' } });
        return json(200, { conversations: [], nextCursor: null });
      },
    });
    await expect(api.chat.listConversations()).resolves.toEqual([]);
    expect(calls.map((c) => c.url)).toEqual(['/api/chat/conversations', '/api/user/auth/refresh', '/api/chat/conversations']);
    expect(calls.every((c) => c.credentials === 'include' && c.auth === null && c.client === null)).toBe(true);
  });

  it('when the refresh fails too, then the first 401 surfaces', async () => {
    const api = new ApiClient({
      baseUrl: '',
      auth: 'cookies',
      fetch: async () => json(401, { error: { code: 'unauthorized', message: 'no token' } }),
    });
    await expect(api.user.me()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });
});

describe('typed endpoints', () => {
  const conversation = {
    id: '6b0e6c1e-8f3a-4c1b-9d2e-0a1b2c3d4e5f',
    kind: 'group',
    title: 'g',
    members: [
      { userId: AUTH.user.id, role: 'owner', joinedAt: '2026-01-01T00:00:00.000Z' },
      { userId: '7b0e6c1e-8f3a-4c1b-9d2e-0a1b2c3d4e5f', role: 'member', joinedAt: '2026-01-01T00:00:00.000Z' },
    ],
    myState: 'accepted',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };

  it('when a conversation is read, then it is the contract shape plus memberIds', async () => {
    const api = new ApiClient({ baseUrl: 'http://x', fetch: async () => json(200, conversation) });
    await expect(api.chat.getConversation(conversation.id)).resolves.toEqual({
      ...conversation,
      memberIds: [AUTH.user.id, '7b0e6c1e-8f3a-4c1b-9d2e-0a1b2c3d4e5f'],
    });
  });

  it('when an answer does not match the contract, then it is refused with bad_response', async () => {
    const wrapped = new ApiClient({ baseUrl: 'http://x', fetch: async () => json(200, { conversation }) });
    await expect(wrapped.chat.getConversation(conversation.id)).rejects.toMatchObject({ code: 'bad_response' });
    const bareList = new ApiClient({ baseUrl: 'http://x', fetch: async () => json(200, [1, 2]) });
    await expect(bareList.chat.userDevices(AUTH.user.id)).rejects.toMatchObject({ code: 'bad_response' });
    const directory = new ApiClient({
      baseUrl: 'http://x',
      fetch: async () => json(200, { users: [{ id: 'not-a-uuid', username: 'x' }], nextCursor: null }),
    });
    await expect(directory.user.searchUsers('x')).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('when calling each service, then the request goes to its prefix with the query and device secret', async () => {
    const seen: Array<{ url: string; method: string; secret: string | null }> = [];
    const api = new ApiClient({
      baseUrl: 'http://x',
      fetch: async (input, init) => {
        const url = String(input);
        seen.push({ url, method: init?.method ?? 'GET', secret: new Headers(init?.headers).get('x-device-secret') });
        if (url.includes('/users?')) return json(200, { users: [], nextCursor: null });
        if (url.includes('/keys/count')) return json(200, { count: 7 });
        if (url.endsWith('/users/u1/devices')) return json(200, { deviceIds: [1, 3] });
        return json(200, {
          email: { welcome: true, newLogin: true, digest: false },
          digestDelayMinutes: 60,
          digestContent: 'sender',
          updatedAt: null,
        });
      },
    });
    await api.user.searchUsers('al ice', { cursor: 'c1' });
    await expect(api.chat.preKeyCount(2, 's3cret')).resolves.toBe(7);
    await expect(api.chat.userDevices('u1')).resolves.toEqual([1, 3]);
    await api.notifications.savePreferences({ digestContent: 'generic' });
    expect(seen).toEqual([
      { url: 'http://x/api/user/users?query=al+ice&limit=20&cursor=c1', method: 'GET', secret: null },
      { url: 'http://x/api/chat/devices/2/keys/count', method: 'GET', secret: 's3cret' },
      { url: 'http://x/api/chat/users/u1/devices', method: 'GET', secret: null },
      { url: 'http://x/api/notifications/preferences', method: 'PUT', secret: null },
    ]);
  });
});

/** Listens on 127.0.0.1 with a handler; returns its base URL, what it received, and a closer. */
async function server(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) {
  const received: string[] = [];
  const srv: Server = createServer((req, res) => {
    received.push(`${req.method} ${req.url} secret=${req.headers['x-device-secret'] ?? ''}`);
    handler(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

describe('ApiClient against a hostile server', () => {
  it('when the server redirects a device-key request elsewhere, then nothing follows the redirect', async () => {
    const elsewhere = await server((_req, res) => res.end('{"count":100}'));
    const hostile = await server((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/steal` });
      res.end();
    });
    try {
      const api = new ApiClient({ baseUrl: hostile.url, fetch: globalThis.fetch });
      const err = await api.chat.preKeyCount(1, 'the-device-secret').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'network_error' });
      // (a GET that fails is sent once more, to the same place)
      expect(hostile.received.length).toBeGreaterThan(0);
      expect(hostile.received.every((r) => r.startsWith('GET /api/chat/devices/1/keys/count'))).toBe(true);
      expect(elsewhere.received).toEqual([]);
    } finally {
      await hostile.close();
      await elsewhere.close();
    }
  });

  it('when an answer that must have a body is empty, then it is a bad_response, not an empty result', async () => {
    for (const res of [() => new Response(null, { status: 204 }), () => new Response('', { status: 200 })]) {
      const api = new ApiClient({ baseUrl: 'http://x', fetch: async () => res() });
      await expect(api.chat.keyBundle('5b0e6c1e-8f3a-4c1b-9d2e-0a1b2c3d4e5f')).rejects.toMatchObject({ code: 'bad_response' });
      await expect(api.chat.getBackup()).rejects.toMatchObject({ code: 'bad_response' });
    }
  });

  it('when removing a device or replacing the backup, then this device proves itself with X-Device-Id and X-Device-Secret, and a new device sends no name', async () => {
    const seen: Array<{ url: string; method: string; id: string | null; secret: string | null; body: unknown }> = [];
    const api = new ApiClient({
      baseUrl: 'http://x',
      fetch: async (input, init) => {
        const h = new Headers(init?.headers);
        seen.push({
          url: String(input),
          method: init?.method ?? 'GET',
          id: h.get('x-device-id'),
          secret: h.get('x-device-secret'),
          body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
        });
        if (init?.method === 'POST') return json(201, { deviceId: 4, deviceSecret: 'a'.repeat(43) });
        return new Response(null, { status: 204 });
      },
    });
    const proof = { deviceId: 2, deviceSecret: 's'.repeat(43) };
    await api.chat.deleteDevice(9, proof);
    await api.chat.putBackup({ version: 3, blob: 'YWJj' }, proof);
    await api.chat.createDevice();
    expect(seen).toEqual([
      { url: 'http://x/api/chat/devices/9', method: 'DELETE', id: '2', secret: proof.deviceSecret, body: undefined },
      { url: 'http://x/api/chat/backup', method: 'PUT', id: '2', secret: proof.deviceSecret, body: { version: 3, blob: 'YWJj' } },
      { url: 'http://x/api/chat/devices', method: 'POST', id: null, secret: null, body: {} },
    ]);
  });

  it('when a request expects no answer, then an empty 204 is fine', async () => {
    const api = new ApiClient({ baseUrl: 'http://x', fetch: async () => new Response(null, { status: 204 }) });
    await expect(api.chat.deleteDevice(3)).resolves.toBeUndefined();
  });
});

describe('SocketAckError stale_devices', () => {
  const missing = [{ userId: AUTH.user.id, deviceId: 2 }];
  it('when the lists come in details, as the server sends them, then they are parsed', () => {
    const err = new SocketAckError('stale_devices', 'm', { missing, extra: [] });
    expect(err.stale).toEqual({ missing, extra: [] });
  });

  it('when the details are not the contract shape, then there are no lists', () => {
    expect(new SocketAckError('stale_devices', 'm', { details: { missing, extra: [] } }).stale).toBeUndefined();
    expect(new SocketAckError('not_member', 'm', { missing, extra: [] }).stale).toBeUndefined();
  });
});
