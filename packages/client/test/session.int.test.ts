import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openBackup, unlockBackup } from '../src/backup/key-backup.js';
import { fetchBackup } from '../src/client/backup-sync.js';
import { ChatClient } from '../src/client/chat-client.js';
import { toBase64 } from '../src/protocol/bytes.js';
import { ApiError } from '../src/transport/api-error.js';
import { createIndexedDbStore } from '../src/storage/indexeddb-backend.js';
import { account, startStack, type Stack } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** Counts the `409 version_conflict` answers a client's backup uploads get. */
function countConflicts(client: ChatClient): { count: number } {
  const seen = { count: 0 };
  const original = client.api.request.bind(client.api);
  vi.spyOn(client.api, 'request').mockImplementation((async (...args: Parameters<typeof original>) => {
    try {
      return await original(...args);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'version_conflict' && args[2] === '/backup') seen.count += 1;
      throw err;
    }
  }) as typeof original);
  return seen;
}

/** The backup the server holds, opened with the password (fresh OPAQUE login, no device). */
async function serverBackup(client: ChatClient, input: { email: string; password: string }) {
  const latest = await fetchBackup(client.api);
  if (!latest) throw new Error('no backup on the server');
  const { dataKey } = await unlockBackupWithLogin(client, latest.blob, unlockBackup, input);
  return { version: latest.version, ...(await openBackup(latest.blob, client.user.id, dataKey)) };
}

function browserLikeClient(factory: IDBFactory, name: string): ChatClient {
  return new ChatClient({
    userApiUrl: `${stack.userUrl}/api/user`,
    chatApiUrl: `${stack.chatUrl}/api/chat`,
    socketUrl: stack.chatUrl,
    deviceName: name,
    backupDebounceMs: 20,
    openStore: (userId) => createIndexedDbStore(`cipherchat-${userId}`, factory),
  });
}

describe('sessions and passwords', () => {
  it('when a browser reloads, then resume() reopens the account from the encrypted IndexedDB store without the password', async () => {
    const factory = new IDBFactory();
    const a = account('alice');
    const b = account('bob');
    const alice = browserLikeClient(factory, 'alice browser');
    const bob = stack.client('bob');
    await alice.signUp(a);
    await bob.signUp(b);
    const conv = await bob.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    const first = alice.next('message', (m) => m.text === 'before reload');
    await bob.sendText(conv.id, 'before reload');
    await first;
    const deviceId = await alice.deviceId();
    const tokens = alice.tokens();
    alice.disconnect();

    // "Reload": a new SDK instance over the same IndexedDB, holding only the session tokens.
    const reloaded = browserLikeClient(factory, 'alice browser');
    reloaded.api.setTokens(tokens);
    const me = await reloaded.resume();
    expect(me?.id).toBe(alice.user.id);
    expect(await reloaded.deviceId()).toBe(deviceId);
    expect((await reloaded.history(conv.id)).map((m) => m.text)).toEqual(['before reload']);
    const next = reloaded.next('message', (m) => m.text === 'after reload');
    await bob.sendText(conv.id, 'after reload');
    await next;
    await reloaded.sendText(conv.id, 'reply after reload');

    // Without a session, resume() asks for a full login instead.
    const stranger = browserLikeClient(new IDBFactory(), 'nobody');
    expect(await stranger.resume()).toBeUndefined();
  });

  it('when the password is changed, then a new device opens the backup with the new password and the old password is refused', async () => {
    const input = account('carol');
    const carol = stack.client('carol 1');
    await carol.signUp(input);
    const key = toBase64((await carol.store.getLocalIdentity())!.identityKeyPair.pubKey);
    const newPassword = `${input.password} changed`;
    await carol.changePassword({ newPassword });
    const other = stack.client('carol 2');
    const r = await other.logIn({ email: input.email, password: newPassword });
    expect(r.identity).toBe('restored');
    expect(toBase64((await other.store.getLocalIdentity())!.identityKeyPair.pubKey)).toBe(key);
    await expect(stack.client('carol 3').logIn(input)).rejects.toMatchObject({ code: 'invalid_credentials' });
  });

  it('when the password is changed on one device and a stale device then uploads the backup, then a fresh device opens it with the new password and keeps the identity', async () => {
    const input = account('erin');
    const e1 = stack.client('erin 1');
    await e1.signUp({ ...input, connect: false });
    const frank = stack.client('frank');
    await frank.signUp({ ...account('frank'), connect: false });
    // Logged in before the change: its token stays valid, its wraps are the old password's.
    const e2 = stack.client('erin 2');
    await e2.logIn({ ...input, connect: false });
    const before = await e1.safetyNumber(frank.user.id);
    const newPassword = `${input.password} changed`;
    await e1.changePassword({ newPassword });

    const conflicts = countConflicts(e2);
    await e2.flushBackup();
    expect(conflicts.count).toBeGreaterThan(0);
    // The adopted wraps are what e2 keeps locally too (resume after a reload uses them).
    const server = await serverBackup(e1, { email: input.email, password: newPassword });
    expect((await e2.store.getMeta('backupKey')) as { wrappedKeys: unknown }).toMatchObject({ wrappedKeys: server.wrappedKeys });
    await e2.logOut();

    const fresh = stack.client('erin 3');
    const r = await fresh.logIn({ email: input.email, password: newPassword, connect: false });
    expect(r.identity).toBe('restored');
    expect((await fresh.safetyNumber(frank.user.id)).digits).toBe(before.digits);
    expect(toBase64((await fresh.store.getLocalIdentity())!.identityKeyPair.pubKey)).toBe(
      toBase64((await e1.store.getLocalIdentity())!.identityKeyPair.pubKey),
    );
  });

  it('when two devices upload the backup concurrently, then version conflicts are merged and both device sections survive', async () => {
    const input = account('dave');
    const d1 = stack.client('dave 1');
    await d1.signUp(input);
    const d2 = stack.client('dave 2');
    await d2.logIn(input);
    await Promise.all([d1.flushBackup(), d2.flushBackup(), d1.flushBackup(), d2.flushBackup()]);
    const d3 = stack.client('dave 3');
    await d3.logIn({ ...input, connect: false });
    await d3.flushBackup();
    const id1 = await d1.deviceId();
    const id2 = await d2.deviceId();
    const id3 = await d3.deviceId();
    // Read back what the server holds and open it with the password-derived key.
    const { fetchBackup } = await import('../src/client/backup-sync.js');
    const { openBackup, unlockBackup } = await import('../src/backup/key-backup.js');
    const remote = await fetchBackup(d3.api);
    expect(remote?.version).toBeGreaterThanOrEqual(3);
    // d3 holds the data key; unlock through the recovery-free path by re-login on a 4th client.
    const d4 = stack.client('dave 4');
    await d4.logIn({ ...input, connect: false });
    const payload = await (async () => {
      const latest = await fetchBackup(d4.api);
      const { dataKey } = await unlockBackupWithLogin(d4, latest!.blob, unlockBackup, input);
      return (await openBackup(latest!.blob, d4.user.id, dataKey)).payload;
    })();
    for (const id of [id1, id2, id3]) expect(Object.keys(payload.devices)).toContain(String(id));
  });
});

/** The export key never leaves ChatClient, so re-derive the data key through a fresh OPAQUE login. */
async function unlockBackupWithLogin(
  client: ChatClient,
  blob: string,
  unlock: typeof import('../src/backup/key-backup.js').unlockBackup,
  input: { email: string; password: string },
) {
  const opaque = await import('@serenity-kit/opaque');
  await opaque.ready;
  const start = opaque.client.startLogin({ password: input.password });
  const { loginResponse } = await client.api.request<{ loginResponse: string }>('user', 'POST', '/auth/login/start', {
    json: { email: input.email, startLoginRequest: start.startLoginRequest },
    auth: false,
  });
  const finished = opaque.client.finishLogin({ clientLoginState: start.clientLoginState, loginResponse, password: input.password });
  return unlock(blob, client.user.id, 'password', finished!.exportKey);
}
