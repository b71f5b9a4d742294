import * as opaque from '@serenity-kit/opaque';
import { describe, expect, it } from 'vitest';
import { openBackup, unlockBackup } from '../../src/backup/key-backup.js';
import type { ChatClient } from '../../src/client/chat-client.js';
import { fromBase64, fromUtf8, toBase64, utf8 } from '../../src/protocol/bytes.js';
import { createMemoryStore } from '../../src/storage/kv-protocol-store.js';
import type { ProtocolStore } from '../../src/storage/protocol-store.js';
import { account } from '../support/stack.js';
import { hostileEnv } from './hostile-db.js';

const env = hostileEnv();

/** One local store per account, kept across logins (as a browser profile keeps IndexedDB). */
function persistentStores() {
  const stores = new Map<string, ProtocolStore>();
  return {
    openStore: async (userId: string) => {
      const s = stores.get(userId) ?? createMemoryStore();
      stores.set(userId, s);
      return s;
    },
  };
}

interface Row {
  version: number;
  blob: Buffer;
}

async function serverRow(userId: string): Promise<Row> {
  const [row] = await env.db.query<Row>(
    `SELECT version, blob FROM chat.backups WHERE user_id = $1`,
    [userId],
  );
  if (!row) throw new Error('no backup row');
  return row;
}

async function putRow(userId: string, row: Row): Promise<void> {
  await env.db.query(`UPDATE chat.backups SET version = $2, blob = $3 WHERE user_id = $1`, [
    userId,
    row.version,
    row.blob,
  ]);
}

/** The OPAQUE export key of a password (what someone who knows the password can derive). */
async function exportKeyOf(
  c: ChatClient,
  input: { email: string; password: string },
): Promise<string> {
  await opaque.ready;
  const start = opaque.client.startLogin({ password: input.password });
  const { loginResponse } = await c.api.request<{ loginResponse: string }>(
    'user',
    'POST',
    '/auth/login/start',
    {
      json: { email: input.email, startLoginRequest: start.startLoginRequest },
      auth: false,
    },
  );
  const finished = opaque.client.finishLogin({
    clientLoginState: start.clientLoginState,
    loginResponse,
    password: input.password,
  });
  if (!finished) throw new Error('wrong password');
  return finished.exportKey;
}

const b64 = (row: Row) => row.blob.toString('base64');

/** Does this secret, through this blob's wrap, open the content of `target`? */
async function opens(
  target: Row,
  via: Row,
  userId: string,
  kind: 'password' | 'recovery',
  secret: string,
): Promise<boolean> {
  try {
    const { dataKey } = await unlockBackup(b64(via), userId, kind, secret);
    await openBackup(b64(target), userId, dataKey, { version: target.version });
    return true;
  } catch {
    return false;
  }
}

describe('hostile server: backup rollback and swapped wraps', () => {
  it('when the server serves an older backup (as it was, or relabelled with a newer version), then my device refuses it and uploads nothing over it', async () => {
    const input = account('rolly');
    const a = env.stack.client('rolly laptop', persistentStores());
    await a.signUp({ ...input, connect: false });
    const id = a.user.id;
    const old = await serverRow(id);
    await a.flushBackup();
    await a.flushBackup();
    const current = await serverRow(id);
    expect(current.version).toBe(old.version + 2);

    // The server puts the old copy back.
    await putRow(id, old);
    await expect(a.flushBackup()).rejects.toMatchObject({
      code: 'backup_rollback',
      message: expect.stringContaining('older copy of your keys'),
    });
    expect(await serverRow(id)).toEqual(old);
    // Uploads stay stopped: nothing is written over the rolled-back copy.
    await expect(a.flushBackup()).rejects.toMatchObject({ code: 'backup_rollback' });
    expect(await serverRow(id)).toEqual(old);

    // Logging in again on this device: refused before anything is opened.
    await a.logOut();
    await expect(a.logIn({ ...input, connect: false })).rejects.toMatchObject({
      code: 'backup_rollback',
    });
    // Relabelled with a newer version number: it was sealed for its own version, so refused.
    await putRow(id, { version: current.version + 5, blob: old.blob });
    await expect(a.logIn({ ...input, connect: false })).rejects.toMatchObject({
      code: 'backup_version_mismatch',
    });
    expect((await serverRow(id)).blob).toEqual(old.blob);

    // The real copy back: this device logs in and backs up again.
    await putRow(id, current);
    const r = await a.logIn({ ...input, connect: false });
    expect(r.identity).toBe('local');
    await a.flushBackup();
    expect((await serverRow(id)).version).toBe(current.version + 1);
  });

  it('when the server swaps in the recovery wraps of an older backup (the recovery key before a rotation), then a device logging in refuses the backup', async () => {
    const input = account('swappy');
    const a = env.stack.client('swappy laptop');
    const { recoveryKey: oldKey } = await a.signUp({ ...input, connect: false });
    const before = await serverRow(a.user.id);
    const newKey = await a.rotateRecoveryKey();
    const current = await serverRow(a.user.id);
    const sealed = JSON.parse(fromUtf8(fromBase64(b64(current)))) as {
      wrappedKeys: Record<string, unknown>;
    };
    const older = JSON.parse(fromUtf8(fromBase64(b64(before)))) as {
      wrappedKeys: Record<string, unknown>;
    };
    const swapped = {
      ...sealed,
      wrappedKeys: {
        ...sealed.wrappedKeys,
        recovery: older.wrappedKeys.recovery,
        recoveryLock: older.wrappedKeys.recoveryLock,
      },
    };
    await putRow(a.user.id, {
      version: current.version,
      blob: Buffer.from(toBase64(utf8(JSON.stringify(swapped))), 'base64'),
    });

    const other = env.stack.client('swappy phone');
    await expect(other.logIn({ ...input, connect: false })).rejects.toMatchObject({
      code: 'backup_tampered',
    });
    await expect(
      other.logIn({ ...input, recoveryKey: oldKey, connect: false }),
    ).rejects.toMatchObject({ code: 'backup_tampered' });
    await expect(
      other.logIn({ ...input, recoveryKey: newKey, connect: false }),
    ).rejects.toMatchObject({ code: 'backup_tampered' });
    // Nothing was written over it by the refusing device.
    expect((await serverRow(a.user.id)).version).toBe(current.version);
  });

  it('when the password is changed, then the old password, through any older blob, opens nothing sealed since; the recovery key still opens the new backup', async () => {
    const input = account('chang');
    const a = env.stack.client('chang laptop');
    const { recoveryKey } = await a.signUp({ ...input, connect: false });
    const oldExport = await exportKeyOf(a, input);
    const olderBlobs = [await serverRow(a.user.id)];
    await a.flushBackup();
    olderBlobs.push(await serverRow(a.user.id));
    const newPassword = `${input.password} changed`;
    await a.changePassword({ newPassword });
    const current = await serverRow(a.user.id);

    for (const via of [...olderBlobs, current])
      expect(await opens(current, via, a.user.id, 'password', oldExport)).toBe(false);
    // The old password still opens the old blobs (that is what they were), nothing newer.
    expect(await opens(olderBlobs[0]!, olderBlobs[0]!, a.user.id, 'password', oldExport)).toBe(
      true,
    );
    const newExport = await exportKeyOf(a, { email: input.email, password: newPassword });
    expect(await opens(current, current, a.user.id, 'password', newExport)).toBe(true);
    expect(await opens(current, current, a.user.id, 'recovery', recoveryKey)).toBe(true);
  });

  it('when the recovery key is rotated, then the old recovery key opens nothing current and the new one restores the identity', async () => {
    const input = account('rota');
    const stores = persistentStores();
    const a = env.stack.client('rota laptop', stores);
    const { recoveryKey: oldKey } = await a.signUp({ ...input, connect: false });
    const older = await serverRow(a.user.id);
    const newKey = await a.rotateRecoveryKey();
    expect(newKey).toMatch(/^([A-Z2-7]{4}-){12}[A-Z2-7]{4}$/);
    const current = await serverRow(a.user.id);
    expect(current.version).toBeGreaterThan(older.version);

    for (const via of [older, current])
      expect(await opens(current, via, a.user.id, 'recovery', oldKey)).toBe(false);
    expect(await opens(current, current, a.user.id, 'recovery', newKey)).toBe(true);
    expect(await opens(current, current, a.user.id, 'password', await exportKeyOf(a, input))).toBe(
      true,
    );

    // After a reload (resume without the password, same local store) it can rotate again.
    const identity = toBase64((await a.store.getLocalIdentity())!.identityKeyPair.pubKey);
    const reloaded = env.stack.client('rota laptop', stores);
    reloaded.api.setTokens(a.tokens());
    expect((await reloaded.resume({ connect: false }))?.id).toBe(a.user.id);
    const third = await reloaded.rotateRecoveryKey();
    const latest = await serverRow(a.user.id);
    expect(await opens(latest, latest, a.user.id, 'recovery', newKey)).toBe(false);
    const { dataKey } = await unlockBackup(b64(latest), a.user.id, 'recovery', third);
    const { payload } = await openBackup(b64(latest), a.user.id, dataKey, {
      version: latest.version,
    });
    expect(payload.identityKeyPair.pubKey).toBe(identity);
  });
});
