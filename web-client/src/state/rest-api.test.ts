import { describe, expect, it, vi } from 'vitest';
import { RestApi } from './rest-api.js';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('RestApi', () => {
  it('when a call answers 401 and the refresh fails, then the session is reported ended', async () => {
    const onEnded = vi.fn();
    const refresh = vi.fn(async () => false);
    const fetchImpl = vi.fn(async () =>
      json(401, { error: { code: 'unauthorized', message: 'no session' } }),
    ) as unknown as typeof fetch;
    const rest = new RestApi(refresh, fetchImpl, onEnded);
    await expect(rest.listConversations()).rejects.toMatchObject({
      code: 'unauthorized',
      status: 401,
    });
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(onEnded).toHaveBeenCalledTimes(1);
  });

  it('when the access token expired and the refresh works, then the call is retried once and succeeds', async () => {
    const onEnded = vi.fn();
    const answers = [
      json(401, { error: { code: 'token_expired', message: 'expired' } }),
      json(200, { conversations: [] }),
    ];
    const fetchImpl = vi.fn(async () => answers.shift()!) as unknown as typeof fetch;
    const rest = new RestApi(async () => true, fetchImpl, onEnded);
    await expect(rest.listConversations()).resolves.toEqual([]);
    expect(fetchImpl).toHaveBeenCalledTimes(2);
    expect(onEnded).not.toHaveBeenCalled();
  });

  it('when an answer does not match the contract, then it is refused with bad_response', async () => {
    const fetchImpl = vi.fn(async () =>
      json(200, { users: [{ id: 'not-a-uuid', username: 'x' }], nextCursor: null }),
    ) as unknown as typeof fetch;
    const rest = new RestApi(async () => true, fetchImpl);
    await expect(rest.searchUsers('x')).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('when searching, then the query goes to user-service as query parameters, relative to this origin', async () => {
    const fetchImpl = vi.fn(async (_input: RequestInfo | URL) =>
      json(200, { users: [], nextCursor: null }),
    );
    const rest = new RestApi(async () => true, fetchImpl as unknown as typeof fetch);
    await rest.searchUsers('al ice', 'c1');
    expect(String(fetchImpl.mock.calls[0]?.[0])).toBe(
      '/api/user/users?query=al+ice&limit=20&cursor=c1',
    );
  });
});
