import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/chat-client.js';
import { toBase64 } from '../src/protocol/bytes.js';
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
