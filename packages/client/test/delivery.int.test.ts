import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import type { StoredMessage } from '../src/messages/message.schema.js';
import type { IncomingEnvelope } from '../src/transport/socket-client.js';
import { account, startStack, type Stack } from './support/stack.js';

/** Delivery semantics: dedupe by server message id, and the mailbox forgets what was acked. */

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

/** Records every envelope the socket hands to `receive`, with the promise of its handling (decrypt … ack). */
function recordDeliveries(client: ChatClient): Array<{ envelope: IncomingEnvelope; handled: Promise<void> }> {
  const seen: Array<{ envelope: IncomingEnvelope; handled: Promise<void> }> = [];
  const original = client.receive.bind(client);
  vi.spyOn(client, 'receive').mockImplementation((envelope) => {
    const handled = original(envelope);
    seen.push({ envelope, handled });
    return handled;
  });
  return seen;
}

describe('delivery', () => {
  it('when the same server message id is delivered twice, then one message event is emitted and the copy is dropped before decryption', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const deliveries = recordDeliveries(bob);
    const conv = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    const messages: StoredMessage[] = [];
    const failures: string[] = [];
    bob.on('message', (m) => messages.push(m));
    bob.on('decryptFailed', (f) => failures.push(f.code));
    const got = bob.next('message', (m) => m.text === 'only once');
    await alice.sendText(conv.id, 'only once');
    await got;
    const first = deliveries.find((d) => d.envelope.conversationId === conv.id);
    expect(first).toBeDefined();
    await first!.handled;

    // The same envelope again (as a redelivery after a lost ack would bring it).
    await bob.receive({ ...first!.envelope });
    expect(messages.map((m) => m.text)).toEqual(['only once']);
    // Dropped by server id, not by the ratchet's replay check (which would report a failure).
    expect(failures).toEqual([]);
    expect((await bob.history(conv.id)).map((m) => m.text)).toEqual(['only once']);
  });

  it('when acknowledged messages exist and the device reconnects, then the mailbox only redelivers what was not acked', async () => {
    const alice = await signUp('carol');
    const bob = await signUp('dave');
    const conv = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    // Bob accepts Alice's request, so she sees his presence.
    await bob.acceptRequest(conv.id);
    const deliveries = recordDeliveries(bob);
    for (const text of ['one', 'two', 'three']) {
      const got = bob.next('message', (m) => m.text === text);
      await alice.sendText(conv.id, text);
      await got;
    }
    // Every handling finished, so every ack went out (message:ack is awaited inside it).
    await Promise.all(deliveries.map((d) => d.handled));
    expect(deliveries).toHaveLength(3);

    const wentOffline = alice.next('presence', (p) => p.userId === bob.user.id && !p.online);
    bob.disconnect();
    await wentOffline;
    await alice.sendText(conv.id, 'while offline');

    const messages: string[] = [];
    bob.on('message', (m) => messages.push(m.text ?? ''));
    const drained = bob.next('mailboxEmpty');
    await bob.connect();
    await drained;
    await Promise.all(deliveries.map((d) => d.handled));
    // Only the unacknowledged message came back; nothing acked was redelivered.
    expect(deliveries).toHaveLength(4);
    expect(messages).toEqual(['while offline']);

    // And once that one is acked too, a further reconnect brings nothing.
    bob.disconnect();
    const drainedAgain = bob.next('mailboxEmpty');
    await bob.connect();
    await drainedAgain;
    expect(deliveries).toHaveLength(4);
    expect(messages).toEqual(['while offline']);
  });
});
