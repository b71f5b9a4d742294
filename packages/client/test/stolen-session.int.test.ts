import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import { account, startStack, type Stack } from './support/stack.js';

// Issue 15 deliverable 7, played end to end by a thief: a stolen laptop's tokens and device
// secret (what a copied profile holds), cut by the owner's "log out other devices" in
// user-service, must stop working in chat-service: the live socket, a reconnect with the cached
// access token, a socket to another namespace, the REST API, and a refresh of the session.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

interface Loot {
  accessToken: string;
  refreshToken: string;
  deviceId: number;
  deviceSecret: string;
}

/** What a thief copies out of a logged-in client. */
async function steal(client: ChatClient): Promise<Loot> {
  const tokens = client.api.getTokens();
  const deviceKeys = (
    client as unknown as {
      parts: {
        deviceKeys: { proof(): Promise<{ deviceId: number; deviceSecret: string } | undefined> };
      };
    }
  ).parts.deviceKeys;
  const proof = await deviceKeys.proof();
  if (!tokens?.accessToken || !tokens.refreshToken || !proof)
    throw new Error('the client must be logged in with a device');
  return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, ...proof };
}

/** A raw socket as the thief's own script would open it. */
function rawSocket(loot: Loot, namespace = '/'): Socket {
  return io(`${stack.chatUrl}${namespace === '/' ? '' : namespace}`, {
    transports: ['websocket'],
    reconnection: false,
    auth: { token: loot.accessToken, deviceId: loot.deviceId, deviceSecret: loot.deviceSecret },
  });
}

/** Resolves when the socket connected, rejects with the refusal's `data.code` (or message). */
function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) =>
      reject(new Error(err.data?.code ?? err.message)),
    );
  });
}

describe('a stolen session after "log out other devices"', () => {
  it('when the owner logs out other devices, then the thief loses the live socket and cannot come back through a cached token, another namespace, REST or a refresh', async () => {
    const input = account('victim');
    const owner = stack.client('owner phone');
    await owner.signUp(input);
    const laptop = stack.client('stolen laptop');
    await laptop.logIn({ ...input, connect: false });
    const loot = await steal(laptop);

    const live = rawSocket(loot);
    await connected(live);
    const cut = new Promise<string[]>((resolve) => {
      const seen: string[] = [];
      live.on('session:revoked', () => seen.push('session:revoked'));
      live.on('disconnect', (reason) => resolve([...seen, reason]));
    });
    // another namespace is no way around the handshake either (before and after)
    await expect(connected(rawSocket(loot, '/admin'))).rejects.toThrow(/Invalid namespace/);

    expect(await owner.api.user.revokeOtherSessions()).toBe(1);
    expect(await cut).toEqual(['session:revoked', 'io server disconnect']);

    await expect(connected(rawSocket(loot))).rejects.toThrow('session_revoked');
    await expect(connected(rawSocket(loot, '/admin'))).rejects.toThrow(/Invalid namespace/);
    const bearer = {
      authorization: `Bearer ${loot.accessToken}`,
      'x-device-id': String(loot.deviceId),
      'x-device-secret': loot.deviceSecret,
    };
    const chat = await fetch(`${stack.chatUrl}/api/chat/conversations`, { headers: bearer });
    expect([chat.status, ((await chat.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      'session_revoked',
    ]);
    const me = await fetch(`${stack.userUrl}/api/user/me`, { headers: bearer });
    expect(me.status).toBe(401);
    const refresh = await fetch(`${stack.userUrl}/api/user/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-client': 'cli' },
      body: JSON.stringify({ refreshToken: loot.refreshToken }),
    });
    expect([
      refresh.status,
      ((await refresh.json()) as { error: { code: string } }).error.code,
    ]).toEqual([401, 'invalid_token']);

    // the owner's own session is untouched
    await expect(owner.listConversations()).resolves.toBeInstanceOf(Array);
    await owner.logOut();
  });
});
