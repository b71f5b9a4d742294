import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import { account, startStack, type Stack } from './support/stack.js';

/** Presence on request (`presence:get`) and the socket's connection state (`connection`). */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function signUp(tag: string): Promise<ChatClient> {
  const client = stack.client(tag);
  await client.signUp(account(tag));
  return client;
}

/** The socket.io socket under the SDK's transport (to drop its connection as a network would). */
function rawSocket(client: ChatClient): Socket {
  const transport = (client as unknown as { parts: { realtime: { socket?: { socket: Socket } } } }).parts.realtime.socket;
  if (!transport) throw new Error('not connected');
  return transport.socket;
}

describe('presence and connection state', () => {
  it('when asking for presence, then people I share a conversation with are answered and strangers are left out', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const carol = await signUp('carol');
    const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    // Until Bob accepts Alice's request, she sees nothing of him.
    expect(await alice.presence([bob.user.id])).toEqual([]);
    await bob.acceptRequest(direct.id);
    const answer = await alice.presence([bob.user.id, carol.user.id, bob.user.id]);
    expect(answer).toEqual([expect.objectContaining({ userId: bob.user.id, online: true })]);

    bob.disconnect();
    await expect
      .poll(async () => (await alice.presence([bob.user.id]))[0]?.online, { timeout: 10_000 })
      .toBe(false);
    const [gone] = await alice.presence([bob.user.id]);
    expect(typeof gone?.lastSeenAt).toBe('string');
  });

  it('when the connection drops, then the client reports offline and online again once Socket.IO reconnected', async () => {
    const alice = await signUp('dora');
    const seen: boolean[] = [];
    alice.on('connection', (c) => seen.push(c.online));
    const back = alice.next('connection', (c) => c.online);
    // Close the underlying transport (not a client disconnect): Socket.IO retries by itself.
    rawSocket(alice).io.engine.close();
    await back;
    expect(seen).toEqual([false, true]);
    expect(alice.connected).toBe(true);
    // And an explicit disconnect is not reported as an outage.
    alice.disconnect();
    expect(seen).toEqual([false, true]);
    expect(alice.connected).toBe(false);
  });
});
