import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import { receiptSummary } from '../src/client/receipt-state.js';
import type { StoredMessage } from '../src/messages/message.schema.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * Issue 16 item 7: per-member read state of my messages in a group, with three SDK clients
 * against the real stack (user-service and chat-service in-process, real PostgreSQL, RabbitMQ
 * and Redis).
 */

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

/** The next update of one of my messages that satisfies `done`. */
function updated(
  c: ChatClient,
  id: string,
  done: (m: StoredMessage) => boolean,
): Promise<StoredMessage> {
  return c.next('messageUpdated', (m) => m.id === id && done(m)) as Promise<StoredMessage>;
}

describe('per-member receipts in a group', () => {
  it('when Bob and then Carol read my group message, then it is read by 1 of 2, then by 2 of 2, with who', async () => {
    const [alice, bob, carol] = [await signUp('alice'), await signUp('bob'), await signUp('carol')];
    const joined = [bob, carol].map((c) =>
      c.next('message', (m) => m.kind === 'event' && m.event?.type === 'created'),
    );
    const group = await alice.createConversation({
      kind: 'group',
      title: 'Readers',
      memberIds: [bob.user.id, carol.user.id],
    });
    await Promise.all(joined);
    // A group someone new started is a request until accepted: no receipts go into a request.
    for (const c of [bob, carol]) await c.acceptRequest(group.id);

    const arrivals = [messageWith(bob, 'who reads this?'), messageWith(carol, 'who reads this?')];
    const sent = await alice.sendText(group.id, 'who reads this?');
    await Promise.all(arrivals);
    const others = [bob.user.id, carol.user.id];

    // Both devices have it: delivered to 2 of 2, read by nobody yet.
    const deliveredToBoth = updated(alice, sent.id, (m) => (m.deliveredTo?.length ?? 0) === 2);
    await bob.markDelivered(group.id, [sent.id]);
    await carol.markDelivered(group.id, [sent.id]);
    const delivered = await deliveredToBoth;
    expect(receiptSummary(delivered, others)).toEqual({
      readBy: [],
      deliveredTo: [bob.user.id, carol.user.id],
      total: 2,
    });
    expect(delivered.status).toBe('delivered');

    const readByBob = updated(alice, sent.id, (m) => m.readBy?.length === 1);
    await bob.markRead(group.id, [sent.id]);
    expect((await readByBob).readBy).toEqual([bob.user.id]);
    expect(receiptSummary(await readByBob, others).readBy.length).toBe(1);

    const readByBoth = updated(alice, sent.id, (m) => m.readBy?.length === 2);
    await carol.markRead(group.id, [sent.id]);
    const read = await readByBoth;
    expect(read.readBy).toEqual([bob.user.id, carol.user.id]);
    expect(receiptSummary(read, others)).toMatchObject({ total: 2 });

    // Stored, not only emitted: history after the fact says the same.
    const stored = (await alice.history(group.id)).find((m) => m.id === sent.id);
    expect(stored).toMatchObject({ status: 'read', readBy: [bob.user.id, carol.user.id] });
    // Bob's copy of Alice's message does not collect Carol's receipt (it is not his message).
    const bobsCopy = (await bob.history(group.id)).find((m) => m.id === sent.id);
    expect(bobsCopy?.readBy).toBeUndefined();
    expect(bobsCopy?.deliveredTo).toBeUndefined();

    for (const c of [alice, bob, carol]) await c.logOut();
  });
});
