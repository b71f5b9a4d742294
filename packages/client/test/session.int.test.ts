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
  return { version: latest.version, ...(await openBackup(latest.blob, client.user.id, dataKey, { version: latest.version })) };
}

function browserLikeClient(factory: IDBFactory, name: string): ChatClient {
  return stack.client(name, { openStore: (userId) => createIndexedDbStore(`cipherchat-${userId}`, factory) });
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

  it('when the password is changed on one device, then the other device session is cut (its upload refused, nothing under the old key), and a fresh device opens the backup with the new password and keeps the identity', async () => {
    const input = account('erin');
    const e1 = stack.client('erin 1');
    await e1.signUp({ ...input, connect: false });
    const frank = stack.client('frank');
    await frank.signUp({ ...account('frank'), connect: false });
    // Logged in before the change: its data key is the old one, and its session ends with the change.
    const e2 = stack.client('erin 2');
    await e2.logIn({ ...input, connect: false });
    const before = await e1.safetyNumber(frank.user.id);
    const newPassword = `${input.password} changed`;
    await e1.changePassword({ newPassword });
    const server = await serverBackup(e1, { email: input.email, password: newPassword });

    // A password change ends every other session at once (the revocation list): e2's upload is
    // refused before it reaches the backup (a live stale device would get backup_key_changed,
    // see backup-sync's tests). Nothing was uploaded under the old key; e2 kept no new wraps.
    await expect(e2.flushBackup()).rejects.toMatchObject({ code: 'session_revoked' });
    expect((await fetchBackup(e1.api))?.version).toBe(server.version);
    expect((await e2.store.getMeta('backupKey')) as { wrappedKeys: unknown }).not.toMatchObject({ wrappedKeys: server.wrappedKeys });
    await e2.logOut().catch(() => undefined);

    const fresh = stack.client('erin 3');
    const r = await fresh.logIn({ email: input.email, password: newPassword, connect: false });
    expect(r.identity).toBe('restored');
    expect((await fresh.safetyNumber(frank.user.id)).digits).toBe(before.digits);
    expect(toBase64((await fresh.store.getLocalIdentity())!.identityKeyPair.pubKey)).toBe(
      toBase64((await e1.store.getLocalIdentity())!.identityKeyPair.pubKey),
    );
  });

  it('when a device uploads the backup from a stale version, then it gets a 409, merges, and the other device\'s newer section survives', async () => {
    const input = account('dave');
    // d1 stays offline, so nothing it receives makes it upload behind the test's back.
    const d1 = stack.client('dave 1');
    await d1.signUp({ ...input, connect: false });
    const d2 = stack.client('dave 2');
    await d2.logIn(input);
    const id1 = await d1.deviceId();
    const id2 = await d2.deviceId();
    // d2 gets state d1 has never seen (a session with Gina), and uploads it first.
    const gina = stack.client('gina');
    await gina.signUp({ ...account('gina'), connect: false });
    const conv = await d2.createConversation({ kind: 'direct', memberIds: [gina.user.id] });
    await d2.sendText(conv.id, 'hello gina');
    const ginaDevice = await gina.deviceId();
    await d2.flushBackup();
    const afterD2 = await serverBackup(d2, input);
    expect(Object.keys(afterD2.payload.devices[String(id2)]!.sessions)).toContain(`${gina.user.id}.${ginaDevice}`);

    // d1 still holds the version from before d2's uploads.
    const conflicts = countConflicts(d1);
    await d1.flushBackup();
    expect(conflicts.count).toBeGreaterThan(0);

    const merged = await serverBackup(d1, input);
    expect(merged.version).toBeGreaterThan(afterD2.version);
    expect(Object.keys(merged.payload.devices)).toEqual(expect.arrayContaining([String(id1), String(id2)]));
    expect(merged.payload.devices[String(id2)]).toEqual(afterD2.payload.devices[String(id2)]);
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
