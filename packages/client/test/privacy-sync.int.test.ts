import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { META_HELD_RECEIPTS } from '../src/client/receipts.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * Issue 15, privacy settings across my devices: a change saved on one device reaches my other
 * connected devices as `privacy:changed` and applies there at once, without a reconnection.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('privacy settings on my other devices', () => {
  it('when I turn read receipts off on my laptop, then my phone knows at once and sends no read receipt', async () => {
    const creds = account('privalice');
    const laptop = stack.client('alice laptop');
    await laptop.signUp(creds);
    const phone = stack.client('alice phone');
    await phone.logIn({ email: creds.email, password: creds.password });
    const bob = stack.client('bob');
    await bob.signUp(account('privbob'));
    const conv = await bob.createConversation({ kind: 'direct', memberIds: [laptop.user.id] });
    await laptop.acceptRequest(conv.id);
    const first = messageWith(phone, 'read me');
    await bob.sendText(conv.id, 'read me');
    const second = messageWith(phone, 'read me too');
    await bob.sendText(conv.id, 'read me too');
    const [one, two] = [await first, await second];
    // While read receipts are on, the phone's receipt reaches Bob.
    const readOne = bob.next('receipt', (r) => r.type === 'read');
    await phone.markRead(conv.id, [one.id]);
    expect(await readOne).toMatchObject({ fromUserId: laptop.user.id, messageIds: [one.id] });

    // From here on the phone may not ask the server: only the push can tell it.
    const asked = vi.spyOn(phone.api.chat, 'privacy');
    const pushed = phone.next('privacyChanged');
    const off = { readReceipts: false, typing: true, lastSeen: true };
    expect(await laptop.setPrivacy(off)).toEqual(off);
    expect(await pushed).toEqual(off);
    expect(await phone.privacy()).toEqual(off);
    expect(asked).not.toHaveBeenCalled();

    const receipts: string[][] = [];
    bob.on('receipt', (r) => r.type === 'read' && receipts.push(r.messageIds));
    await phone.markRead(conv.id, [two.id]);
    // Nothing held for later either, and a message the phone sends after the receipt would have
    // been sent reaches Bob after it.
    expect(await phone.store.getMeta(META_HELD_RECEIPTS)).toBeUndefined();
    const after = messageWith(bob, 'sent after reading');
    await phone.sendText(conv.id, 'sent after reading');
    await after;
    expect(receipts).toEqual([]);
    // The phone still marked it read for itself.
    expect((await phone.store.getMessage(two.id))?.status).toBe('read');
  });
});
