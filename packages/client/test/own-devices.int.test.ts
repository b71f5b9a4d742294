import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import type { MessageSender } from '../src/client/message-sender.js';
import type { PlaintextMessage } from '../src/messages/message.schema.js';
import { randomId } from '../src/protocol/bytes.js';
import { createMemoryStore } from '../src/storage/kv-protocol-store.js';
import type { ProtocolStore } from '../src/storage/protocol-store.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';
import { hostileDb, type HostileDb } from './hostile-server/hostile-db.js';

let stack: Stack;
let db: HostileDb;
beforeAll(async () => {
  stack = await startStack();
  db = await hostileDb(stack);
});
afterAll(async () => {
  await db?.close();
  await stack?.close();
});

/** A client whose local store outlives it (one per user id), like a browser profile. */
function persistentClient(name: string, stores: Map<string, ProtocolStore>): ChatClient {
  return stack.client(name, {
    openStore: async (userId) => {
      let s = stores.get(userId);
      if (!s) stores.set(userId, (s = createMemoryStore()));
      return s;
    },
  });
}

async function aliceOnTwoDevicesAndBob() {
  const creds = account('alice');
  const laptopStores = new Map<string, ProtocolStore>();
  const laptop = persistentClient('alice laptop', laptopStores);
  await laptop.signUp(creds);
  const phone = stack.client('alice phone');
  const linked = laptop.next('deviceLinked');
  await phone.logIn({ email: creds.email, password: creds.password });
  const bob = stack.client('bob phone');
  await bob.signUp(account('bob'));
  const conv = await laptop.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
  return { creds, laptop, laptopStores, phone, bob, conversationId: conv.id, linked };
}

describe('my devices', () => {
  it('when I log in on a new device, then it announces its name end to end, my other device answers with its own, the server stores no name, and the self conversation stays out of the chat list', async () => {
    const { creds, laptop, phone, linked } = await aliceOnTwoDevicesAndBob();
    const event = await linked;
    expect(event).toMatchObject({ deviceId: await phone.deviceId(), name: 'alice phone' });
    // The phone learns the laptop's name from the laptop's answer.
    const laptopId = (await laptop.deviceId()) as number;
    await vi.waitFor(async () => {
      const mine = await phone.devices();
      expect(mine.find((d) => d.deviceId === laptopId)).toMatchObject({ name: 'alice laptop', status: 'linked', current: false });
    }, { timeout: 10_000 });
    expect((await laptop.devices()).find((d) => d.deviceId === (event.deviceId))).toMatchObject({ name: 'alice phone', status: 'linked' });
    expect((await phone.devices()).find((d) => d.current)).toMatchObject({ name: 'alice phone', status: 'linked' });
    const names = await db.query<{ name: string }>(`SELECT name FROM chat.devices WHERE user_id = $1`, [laptop.user.id]);
    expect(names.map((n) => n.name)).toEqual(['', '']);
    expect((await stack.dump()).includes('alice phone')).toBe(false);
    expect((await laptop.listConversations()).every((c) => c.memberIds.length > 1)).toBe(true);
    expect((await phone.listConversations()).every((c) => c.memberIds.length > 1)).toBe(true);

    // A third device learns both names from the key backup, before any announcement reaches it.
    await laptop.flushBackup();
    await phone.flushBackup();
    const tablet = stack.client('alice tablet');
    await tablet.logIn({ email: creds.email, password: creds.password, connect: false });
    const seen = await tablet.devices();
    expect(seen.find((d) => d.deviceId === laptopId)?.name).toBe('alice laptop');
    expect(seen.find((d) => d.deviceId === event.deviceId)?.name).toBe('alice phone');
    expect(seen.find((d) => d.current)?.name).toBe('alice tablet');
  });

  it('when another of my devices removes this one, then it registers again by itself, keeps its identity and history, and can send and receive', async () => {
    const { laptop, phone, bob, conversationId } = await aliceOnTwoDevicesAndBob();
    const bobGot = messageWith(bob, 'before removal');
    await laptop.sendText(conversationId, 'before removal');
    await bobGot;
    const oldId = (await laptop.deviceId()) as number;
    const identity = (await laptop.store.getLocalIdentity())?.identityKeyPair.pubKey;

    const removed = laptop.next('deviceRemoved');
    const relinked = phone.next('deviceLinked', (d) => d.deviceId !== oldId);
    await phone.removeDevice(oldId);
    expect(await removed).toEqual({ needsLogin: false });
    await vi.waitFor(() => expect(laptop.connected).toBe(true), { timeout: 10_000 });
    const newId = await laptop.deviceId();
    expect(newId).toBeDefined();
    expect(newId).not.toBe(oldId);
    expect((await relinked).deviceId).toBe(newId);
    expect((await laptop.store.getLocalIdentity())?.identityKeyPair.pubKey).toEqual(identity);
    expect((await laptop.history(conversationId)).map((m) => m.text)).toContain('before removal');

    const toBob = messageWith(bob, 'after relink');
    await laptop.sendText(conversationId, 'after relink');
    await toBob;
    const toLaptop = messageWith(laptop, 'welcome back');
    await bob.sendText(conversationId, 'welcome back');
    await toLaptop;
    expect(await bob.identityStatus(laptop.user.id)).toBe('trusted');

    // Removed again at once (a server that keeps saying "unknown device"): no second device is
    // registered by itself; the client waits for the password.
    const count = async () => (await phone.devices()).length;
    const before = await count();
    const again = laptop.next('deviceRemoved');
    await phone.removeDevice(newId as number);
    expect(await again).toEqual({ needsLogin: true });
    expect(await count()).toBe(before - 1);
  });

  it('when this device is removed more than 5 minutes after the last password login, then it asks for the password (deviceRemoved needsLogin) and the next login re-registers and keeps the history', async () => {
    const { creds, laptop, laptopStores, phone, bob, conversationId } = await aliceOnTwoDevicesAndBob();
    const bobGot = messageWith(bob, 'kept');
    await laptop.sendText(conversationId, 'kept');
    await bobGot;
    const oldId = (await laptop.deviceId()) as number;
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 6 * 60_000 });
    try {
      const removed = laptop.next('deviceRemoved');
      await phone.removeDevice(oldId);
      expect(await removed).toEqual({ needsLogin: true });
      expect(laptop.connected).toBe(false);
    } finally {
      vi.useRealTimers();
    }
    const again = persistentClient('alice laptop', laptopStores);
    await again.logIn({ email: creds.email, password: creds.password });
    expect(await again.deviceId()).not.toBe(oldId);
    expect((await again.history(conversationId)).map((m) => m.text)).toContain('kept');
    const toBob = messageWith(bob, 'back after login');
    await again.sendText(conversationId, 'back after login');
    await toBob;
  });

  it('when a device announcement comes from someone else, or names another device than its sender, then it is dropped and nothing is recorded', async () => {
    const { laptop, phone, bob, conversationId, linked: phoneLinked } = await aliceOnTwoDevicesAndBob();
    await phoneLinked; // the real announcement came first
    const senderOf = (c: ChatClient) => (c as unknown as { parts: { sender: MessageSender } }).parts.sender;
    const announce = (conversation: string, deviceId: number, name: string): PlaintextMessage => ({
      v: 1,
      kind: 'device',
      id: randomId(),
      conversationId: conversation,
      sentAt: Date.now(),
      device: { deviceId, name, linkedAt: Date.now() },
    });
    const refused: string[] = [];
    laptop.on('decryptFailed', (e) => refused.push(e.code));
    let linked = 0;
    laptop.on('deviceLinked', () => (linked += 1));

    // Bob (end to end, in his chat with Alice) claims to be a new device of hers.
    const bobDevice = (await bob.deviceId()) as number;
    await senderOf(bob).fanOut(conversationId, announce(conversationId, bobDevice, 'Alice new phone'));
    await vi.waitFor(() => expect(refused).toContain('invalid_announcement'), { timeout: 10_000 });
    // Alice's phone names a device id that is not its own.
    const self = await (laptop as unknown as { parts: { ownDevices: { selfConversation(): Promise<string> } } }).parts.ownDevices.selfConversation();
    await senderOf(phone).fanOut(self, announce(self, 99, 'Ghost tablet'));
    await vi.waitFor(() => expect(refused.filter((c) => c === 'invalid_announcement')).toHaveLength(2), { timeout: 10_000 });

    expect(linked).toBe(0);
    const names = (await laptop.devices()).map((d) => d.name);
    expect(names).not.toContain('Alice new phone');
    expect(names).not.toContain('Ghost tablet');
    expect(JSON.stringify(await laptop.store.getMeta('linkedDevices'))).not.toMatch(/Alice new phone|Ghost tablet/);
  });
});
