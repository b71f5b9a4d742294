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

describe('SocketAckError stale_devices', () => {
  const missing = [{ userId: 'u', deviceId: 2 }];
  it.each([
    ['details', { code: 'stale_devices', message: 'm', details: { missing, extra: [] } }],
    ['top-level lists', { code: 'stale_devices', message: 'm', missing, extra: [] }],
  ])('when the lists come as %s, then they are parsed', (_, raw) => {
    const err = new SocketAckError('stale_devices', 'm', raw);
    expect(err.stale).toEqual({ missing, extra: [] });
  });
});
