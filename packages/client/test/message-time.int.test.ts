import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import type { ClientParts } from '../src/client/client-parts.js';
import { FORMAT_VERSION, type PlaintextMessage } from '../src/messages/message.schema.js';
import { randomId } from '../src/protocol/bytes.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * Time rules end to end (docs/client.md "Message format", "Disappearing messages"): a modified
 * client's clock cannot date a message in the far future or lock a direct chat's timer.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** Sends a plaintext as it is, past the SDK's own checks (what a modified client could send). */
function sendRaw(c: ChatClient, plain: PlaintextMessage): Promise<void> {
  return (c as unknown as { parts: ClientParts }).parts.queue.sendControl(plain);
}

describe('message times from a modified client', () => {
  it('when Alice dates a text a month ahead and sets the timer "in 2999", then Bob sees the text dated by the server and his own later timer setting holds', async () => {
    const alice = stack.client('alice');
    await alice.signUp(account('alice'));
    const bob = stack.client('bob');
    await bob.signUp(account('bob'));
    const { id: conversationId } = await alice.createConversation({
      kind: 'direct',
      memberIds: [bob.user.id],
    });
    const got = messageWith(bob, 'from the future');
    const before = Date.now();
    await sendRaw(alice, {
      v: FORMAT_VERSION,
      kind: 'text',
      id: randomId(),
      conversationId,
      sentAt: before + 30 * 24 * 3600_000,
      text: 'from the future',
    });
    const m = await got;
    expect(m.sentAt).toBe(Date.parse(m.serverTimestamp!));
    expect(m.sentAt).toBeLessThan(before + 5 * 60_000);

    await sendRaw(alice, {
      v: FORMAT_VERSION,
      kind: 'timer',
      id: randomId(),
      conversationId,
      sentAt: Date.UTC(2999, 0),
      timer: { seconds: 60 },
    });
    await vi.waitFor(() => expect(bob.disappearingTimer(conversationId)).toBe(60), {
      timeout: 15_000,
    });
    await bob.setDisappearingTimer(conversationId, 3600);
    expect(bob.disappearingTimer(conversationId)).toBe(3600);
    await vi.waitFor(() => expect(alice.disappearingTimer(conversationId)).toBe(3600), {
      timeout: 15_000,
    });
    const line = (await bob.store.listMessages(conversationId)).find(
      (x) => x.event?.type === 'timer' && x.event.actorUserId === alice.user.id,
    );
    expect(line?.sentAt).toBeLessThan(Date.now() + 5 * 60_000);
  });
});
