import * as opaque from '@serenity-kit/opaque';
import { describe, expect, it } from 'vitest';
import { ChatClient } from './chat-client.js';

function clientWith(handler: (path: string, body: unknown) => Response | Promise<Response>) {
  const calls: string[] = [];
  const client = new ChatClient({
    baseUrl: 'http://chat.test',
    fetch: async (input, init) => {
      const path = new URL(String(input)).pathname;
      calls.push(path);
      return handler(path, init?.body ? JSON.parse(String(init.body)) : undefined);
    },
  });
  return { client, calls };
}

describe('ChatClient account flows (no server)', () => {
  it('when sign-up input breaks the contract, then it fails with validation_error before anything is sent', async () => {
    const { client, calls } = clientWith(() => {
      throw new Error('must not be called');
    });
    await expect(
      client.signUp({ email: 'not-an-email', username: 'ok_name', displayName: 'X', password: 'pw' }),
    ).rejects.toMatchObject({ code: 'validation_error', status: 400 });
    await expect(
      client.signUp({ email: 'a@example.org', username: 'no spaces!', displayName: 'X', password: 'pw' }),
    ).rejects.toMatchObject({ code: 'validation_error' });
    expect(calls).toEqual([]);
  });

  it('when the password is wrong, then OPAQUE fails on the client and login/finish is never sent', async () => {
    await opaque.ready;
    const serverSetup = opaque.server.createSetup();
    const email = 'alice@example.org';
    const reg = opaque.client.startRegistration({ password: 'the right password' });
    const { registrationResponse } = opaque.server.createRegistrationResponse({
      serverSetup,
      userIdentifier: email,
      registrationRequest: reg.registrationRequest,
    });
    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState: reg.clientRegistrationState,
      registrationResponse,
      password: 'the right password',
    });
    const { client, calls } = clientWith((path, body) => {
      if (path === '/api/user/auth/login/start') {
        const { loginResponse } = opaque.server.startLogin({
          serverSetup,
          registrationRecord,
          startLoginRequest: (body as { startLoginRequest: string }).startLoginRequest,
          userIdentifier: email,
        });
        return new Response(JSON.stringify({ loginResponse }), { status: 200 });
      }
      return new Response('{}', { status: 500 });
    });
    await expect(client.logIn({ email, password: 'a wrong password' })).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    expect(calls).toEqual(['/api/user/auth/login/start']);
  });
});
