import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/chat-client.js';
import { createIndexedDbStore } from '../src/storage/indexeddb-backend.js';
import { account, startStack, type Stack } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

function browserLikeClient(factory: IDBFactory, name: string): ChatClient {
  return stack.client(name, { openStore: (userId) => createIndexedDbStore(`cipherchat-${userId}`, factory) });
}

async function myDevices(client: ChatClient): Promise<number[]> {
  const answer = (await client.api.request('chat', 'GET', '/devices')) as { devices: { deviceId: number }[] };
  return answer.devices.map((d) => d.deviceId);
}

describe('device secret', () => {
  it('when a device is set up, then its secret is kept next to its id in the local store, not in the key backup, and a reload reuses it', async () => {
    const factory = new IDBFactory();
    const alice = browserLikeClient(factory, 'alice browser');
    await alice.signUp(account('alice'));
    const deviceId = await alice.deviceId();
    const secret = await alice.store.getMeta('deviceSecret');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // the key backup is built from the private state: the secret stays on this device
    expect(JSON.stringify(await alice.store.exportPrivateState())).not.toContain(secret as string);
    const tokens = alice.tokens();
    alice.disconnect();

    const reloaded = browserLikeClient(factory, 'alice browser');
    reloaded.api.setTokens(tokens);
    expect((await reloaded.resume())?.id).toBe(alice.user.id);
    expect(await reloaded.deviceId()).toBe(deviceId);
    expect(await reloaded.store.getMeta('deviceSecret')).toBe(secret);
    expect(await myDevices(reloaded)).toEqual([deviceId]);
    reloaded.disconnect();
  });

  it('when the store holds a device id without a secret (set up before device secrets), then setup removes that device and registers a new one', async () => {
    const bob = stack.client('bob laptop');
    await bob.signUp(account('bob'));
    const old = await bob.deviceId();
    bob.disconnect();
    await bob.store.setMeta('deviceSecret', undefined);

    await bob.setupDevice();
    const fresh = await bob.deviceId();
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(old);
    expect(await bob.store.getMeta('deviceSecret')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await myDevices(bob)).toEqual([fresh]);
    await bob.connect();
    bob.disconnect();
  });
});
