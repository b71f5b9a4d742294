import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import { createMemoryStore } from '../src/storage/kv-protocol-store.js';
import type { ProtocolStore } from '../src/storage/protocol-store.js';
import { ApiError } from '../src/transport/api-error.js';
import { hostileDb, type HostileDb } from './hostile-server/hostile-db.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

let stack: Stack;
let db: HostileDb;
beforeAll(async () => {
  // a small device limit, so a leak of devices shows within a few logins
  stack = await startStack({ MAX_DEVICES: '2' });
  db = await hostileDb(stack);
});
afterAll(async () => {
  await db?.close();
  await stack?.close();
});

/** A client whose local store outlives it, like a browser profile. */
function profileClient(name: string, store: ProtocolStore = createMemoryStore()): ChatClient {
  return stack.client(name, { openStore: async () => store });
}

const deviceCount = async (userId: string) =>
  (
    await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM chat.devices WHERE user_id = $1`,
      [userId],
    )
  )[0]?.n;

describe('log out removes this device', () => {
  it('when Alice logs in and out on five new devices, then each logout removes its device and she never meets the limit of two', async () => {
    const creds = account('alice');
    const home = stack.client('alice home');
    await home.signUp(creds);
    for (let i = 0; i < 5; i++) {
      const visit = stack.client(`alice visit ${i}`);
      await visit.logIn({ email: creds.email, password: creds.password });
      expect((await home.devices()).map((d) => d.deviceId)).toHaveLength(2);
      expect(await visit.logOut({ forget: true, removeDevice: true })).toEqual({
        deviceRemoved: true,
      });
    }
    const left = await home.devices();
    expect(left).toEqual([expect.objectContaining({ current: true, name: 'alice home' })]);
    // last active: the start of an hour, never the exact time
    expect(left[0]?.lastActiveAt).toMatch(/T\d\d:00:00\.000Z$/);
    await home.logOut();
  });

  it("when Alice's phone logs out removing itself, then her laptop lists only itself and Bob's next message reaches the laptop without an error", async () => {
    const creds = account('alice');
    const laptop = stack.client('alice laptop');
    await laptop.signUp(creds);
    const phone = stack.client('alice phone');
    await phone.logIn({ email: creds.email, password: creds.password });
    const bob = stack.client('bob');
    await bob.signUp(account('bob'));
    const conv = await bob.createConversation({ kind: 'direct', memberIds: [laptop.user.id] });
    const before = [messageWith(laptop, 'before'), messageWith(phone, 'before')];
    await bob.sendText(conv.id, 'before');
    await Promise.all(before);

    expect(await phone.logOut({ forget: true, removeDevice: true })).toEqual({
      deviceRemoved: true,
    });
    expect((await laptop.devices()).map((d) => d.current)).toEqual([true]);
    const after = messageWith(laptop, 'after');
    // Bob still has a session with the removed phone: the server's stale_devices answer drops it
    await expect(bob.sendText(conv.id, 'after')).resolves.toMatchObject({ status: 'sent' });
    await after;
    expect(await deviceCount(laptop.user.id)).toBe(1);
    await laptop.logOut();
    await bob.logOut();
  });

  it('when the server cannot be reached at logout, then the removal throws, nothing is logged out, and the device stays listed', async () => {
    const creds = account('alice');
    const home = stack.client('alice home');
    await home.signUp(creds);
    let down = false;
    const cut: typeof fetch = (input, init) =>
      down ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
    const store = createMemoryStore();
    const laptop = stack.client('alice laptop', { openStore: async () => store, fetch: cut });
    await laptop.logIn({ email: creds.email, password: creds.password });
    const id = await laptop.deviceId();
    down = true;
    await expect(laptop.logOut({ forget: true, removeDevice: true })).rejects.toSatisfy(
      (e) => e instanceof ApiError || e instanceof TypeError,
    );
    down = false;
    // still logged in, its local store intact, its device listed
    expect(await laptop.deviceId()).toBe(id);
    expect((await home.devices()).map((d) => d.deviceId)).toContain(id);
    await vi.waitFor(() => expect(laptop.connected).toBe(true), { timeout: 10_000 });
    expect(await laptop.logOut({ forget: true, removeDevice: true })).toEqual({
      deviceRemoved: true,
    });
    expect((await home.devices()).map((d) => d.deviceId)).not.toContain(id);
    await home.logOut();
  });

  it('when Alice logs out keeping the device, then the next login in that profile reuses the device and its history', async () => {
    const creds = account('alice');
    const store = createMemoryStore();
    const first = profileClient('alice laptop', store);
    await first.signUp(creds);
    const id = await first.deviceId();
    expect(await first.logOut()).toEqual({ deviceRemoved: false });
    const again = profileClient('alice laptop', store);
    expect((await again.logIn({ email: creds.email, password: creds.password })).identity).toBe(
      'local',
    );
    expect(await again.deviceId()).toBe(id);
    expect(await deviceCount(again.user.id)).toBe(1);
    await again.logOut();
  });
});
