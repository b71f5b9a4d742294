import { TcpProxy } from '@cipherchat/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/chat-client.js';
import type { StoredMessage } from '../src/messages/message.schema.js';
import { account, startStack, type Stack } from './support/stack.js';

/**
 * Socket.IO retries a dropped connection by itself, but gives up for good when the server's
 * handshake check refuses the retry. A client whose access token expired while it was
 * disconnected (a laptop that slept) must refresh and come back by itself, then receive what
 * was sent meanwhile.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('reconnecting', () => {
  it('when a reconnection is refused because the access token is no longer valid, then the client refreshes, reconnects and receives what was sent meanwhile', async () => {
    const proxy = new TcpProxy(Number(new URL(stack.chatUrl).port));
    const proxyPort = await proxy.start();
    const a = account('alice');
    const b = account('bob');
    const alice = stack.client('alice');
    const bob = new ChatClient({
      userApiUrl: `${stack.userUrl}/api/user`,
      chatApiUrl: `${stack.chatUrl}/api/chat`,
      socketUrl: `http://127.0.0.1:${proxyPort}`,
      deviceName: 'bob',
      backupDebounceMs: 20,
    });
    try {
      await alice.signUp(a);
      await bob.signUp(b);
      const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
      const first = bob.next('message', (m) => m.text === 'before');
      await alice.sendText(direct.id, 'before');
      await first;

      const states: boolean[] = [];
      bob.on('connection', (c) => states.push(c.online));
      // The next handshake carries a token the server refuses; the refresh token still works.
      const tokens = bob.api.getTokens()!;
      bob.api.setTokens({
        ...tokens,
        accessToken: `${(tokens.accessToken ?? '').slice(0, -4)}AAAA`,
      });
      await proxy.cut();
      await proxy.restore();

      const later = bob.next(
        'message',
        (m) => m.text === 'while refused',
      ) as Promise<StoredMessage>;
      await alice.sendText(direct.id, 'while refused');
      expect((await later).conversationId).toBe(direct.id);
      expect(states).toEqual([false, true]);
      expect(bob.api.getTokens()!.accessToken).not.toBe(tokens.accessToken);
    } finally {
      await alice.logOut();
      await bob.logOut();
      await proxy.stop();
    }
  });
});
