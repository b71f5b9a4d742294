import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * Review 15 (F3): a device whose mailbox is full never makes a group message fail for its
 * sender; its envelope is dropped, and the device is told how many it missed when it next
 * drains (`mailboxEmpty` `{ missed }`).
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ MAILBOX_MAX_MESSAGES: '3' });
});
afterAll(async () => {
  await stack?.close();
});

describe('a full mailbox in a group', () => {
  it('when my offline device fills up, then the group still sends, and on reconnecting I am told how many messages I missed', async () => {
    const alice = stack.client('alice');
    const bob = stack.client('bob');
    await alice.signUp(account('alice'));
    await bob.signUp(account('bob'));
    const group = await alice.createConversation({
      kind: 'group',
      memberIds: [bob.user.id],
      title: 'g',
    });
    const hello = messageWith(bob, 'hello');
    await alice.sendText(group.id, 'hello');
    await hello;

    bob.disconnect();
    // five sends while Bob is away: none fails although his mailbox holds three
    for (let i = 0; i < 5; i++) await alice.sendText(group.id, `m${i}`);

    const texts: string[] = [];
    bob.on('message', (m) => texts.push(m.text ?? ''));
    const arrived = [0, 1, 2, 3, 4].map((i) => messageWith(bob, `m${i}`));
    const drained = bob.next('mailboxEmpty');
    await bob.connect();
    // three slots: the first sends took them (and 'hello' too if its ack had not landed yet)
    const { missed } = await drained;
    expect([2, 3]).toContain(missed);
    await Promise.all(arrived.slice(0, 5 - missed));
    expect(texts.filter((t) => t.startsWith('m'))).toEqual(
      ['m0', 'm1', 'm2', 'm3', 'm4'].slice(0, 5 - missed),
    );

    // told once: the next drain misses nothing
    bob.disconnect();
    const again = bob.next('mailboxEmpty');
    await bob.connect();
    expect(await again).toEqual({ missed: 0 });
  });
});
