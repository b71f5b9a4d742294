import { describe, expect, it } from 'vitest';
import {
  fromBase64,
  fromUtf8,
  randomBytes,
  toBase64,
  toBase64Url,
  utf8,
} from '../protocol/bytes.js';
import { generateLocalIdentity } from '../protocol/keys.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import {
  BackupRefusedError,
  buildBackupPayload,
  generateDataKey,
  newKeyWraps,
  openBackup,
  sealBackup,
  unlockBackup,
  wrapDataKey,
  type BackupPayload,
} from './key-backup.js';
import { generateRecoveryKey } from './recovery-key.js';

const USER = '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

async function payload(): Promise<BackupPayload> {
  const store = createMemoryStore();
  await store.setLocalIdentity(await generateLocalIdentity());
  return buildBackupPayload(USER, 1, await store.exportPrivateState());
}

function edit(
  blob: string,
  change: (sealed: Record<string, unknown>) => Record<string, unknown>,
): string {
  return toBase64(
    utf8(JSON.stringify(change(JSON.parse(fromUtf8(fromBase64(blob))) as Record<string, unknown>))),
  );
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackupRefusedError);
  return (err as BackupRefusedError).code;
}

/** A blob as format 1 wrote it (additional data = the user id only). */
async function sealFormat1(
  dataKey: CryptoKey,
  content: BackupPayload,
  wrappedKeys: Record<string, unknown>,
) {
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: utf8(USER) },
    dataKey,
    utf8(JSON.stringify(content)),
  );
  const sealed = {
    format: 'cipherchat-key-backup',
    v: 1,
    userId: USER,
    iv: toBase64(iv),
    ciphertext: toBase64(ct),
    wrappedKeys,
  };
  return toBase64(utf8(JSON.stringify(sealed)));
}

describe('backup format 2', () => {
  it('when opened for the version it was sealed for, then it opens; served under another version, it is refused', async () => {
    const exportKey = toBase64Url(randomBytes(64));
    const { dataKey, wrappedKeys } = await newKeyWraps(USER, exportKey, {
      recoveryKey: generateRecoveryKey(),
    });
    const blob = await sealBackup(dataKey, await payload(), wrappedKeys, 7);
    const opened = await openBackup(blob, USER, dataKey, { version: 7, highWater: 7 });
    expect(opened.legacy).toBe(false);
    expect(opened.wrappedKeys).toEqual(wrappedKeys);
    expect(await refusal(openBackup(blob, USER, dataKey, { version: 8 }))).toBe(
      'backup_version_mismatch',
    );
    // Relabelling the version inside the blob breaks the AEAD.
    const relabelled = edit(blob, (s) => ({ ...s, version: 8 }));
    expect(await refusal(openBackup(relabelled, USER, dataKey, { version: 8 }))).toBe(
      'backup_tampered',
    );
  });

  it('when a wrap is swapped, dropped or added (even a valid wrap of the same data key), then the backup is refused', async () => {
    const exportKey = toBase64Url(randomBytes(64));
    const recoveryKey = generateRecoveryKey();
    const { dataKey, wrappedKeys } = await newKeyWraps(USER, exportKey, { recoveryKey });
    const blob = await sealBackup(dataKey, await payload(), wrappedKeys, 3);
    // A second, valid wrap of the same key under the same password, as the server might keep.
    const other = await wrapDataKey(dataKey, 'password', exportKey, USER);
    const swapped = edit(blob, (s) => ({ ...s, wrappedKeys: { ...wrappedKeys, password: other } }));
    const unlocked = await unlockBackup(swapped, USER, 'password', exportKey);
    expect(await refusal(openBackup(swapped, USER, unlocked.dataKey, { version: 3 }))).toBe(
      'backup_tampered',
    );
    const { recovery: _dropped, ...noRecovery } = wrappedKeys;
    const dropped = edit(blob, (s) => ({ ...s, wrappedKeys: noRecovery }));
    expect(await refusal(openBackup(dropped, USER, dataKey, { version: 3 }))).toBe(
      'backup_tampered',
    );
    const attacker = await wrapDataKey(dataKey, 'recovery', generateRecoveryKey(), USER);
    const added = edit(blob, (s) => ({
      ...s,
      wrappedKeys: { ...wrappedKeys, legacyRecovery: attacker },
    }));
    expect(await refusal(openBackup(added, USER, dataKey, { version: 3 }))).toBe('backup_tampered');
    // Both secrets still open the untouched blob.
    for (const [kind, secret] of [
      ['password', exportKey],
      ['recovery', recoveryKey],
    ] as const) {
      const k = await unlockBackup(blob, USER, kind, secret);
      expect((await openBackup(blob, USER, k.dataKey, { version: 3 })).payload.userId).toBe(USER);
    }
  });

  it('when the server offers a version below the high-water mark, or format 1 after format 2, then it is refused as a rollback', async () => {
    const { dataKey, wrappedKeys } = await newKeyWraps(USER, toBase64Url(randomBytes(64)), {
      recoveryKey: generateRecoveryKey(),
    });
    const content = await payload();
    const old = await sealBackup(dataKey, content, wrappedKeys, 4);
    expect(await refusal(openBackup(old, USER, dataKey, { version: 4, highWater: 5 }))).toBe(
      'backup_rollback',
    );
    const v1 = await sealFormat1(dataKey, content, { password: wrappedKeys.password });
    expect(await refusal(openBackup(v1, USER, dataKey, { version: 9, highWater: 5 }))).toBe(
      'backup_rollback',
    );
  });

  it('when a format-1 backup is read by a device without a high-water mark, then it opens once (legacy) with its old recovery wrap', async () => {
    const exportKey = toBase64Url(randomBytes(64));
    const recoveryKey = generateRecoveryKey();
    const dataKey = await generateDataKey();
    const wraps = {
      password: await wrapDataKey(dataKey, 'password', exportKey, USER),
      recovery: await wrapDataKey(dataKey, 'recovery', recoveryKey, USER),
    };
    const v1 = await sealFormat1(dataKey, await payload(), wraps);
    const { dataKey: k } = await unlockBackup(v1, USER, 'recovery', recoveryKey);
    const opened = await openBackup(v1, USER, k, { version: 2 });
    expect(opened.legacy).toBe(true);
    expect(opened.wrappedKeys).toEqual({
      password: wraps.password,
      legacyRecovery: wraps.recovery,
    });
    // Rewritten in format 2 with the same wraps, it opens with both secrets.
    const v2 = await sealBackup(k, opened.payload, opened.wrappedKeys, 3);
    for (const [kind, secret] of [
      ['password', exportKey],
      ['recovery', recoveryKey],
    ] as const) {
      const u = await unlockBackup(v2, USER, kind, secret);
      expect((await openBackup(v2, USER, u.dataKey, { version: 3, highWater: 2 })).legacy).toBe(
        false,
      );
    }
  });

  it('when the data key is re-keyed for a password change, then the recovery lock opens the new key without the recovery key being known, and the old password and old key open nothing new', async () => {
    const oldExport = toBase64Url(randomBytes(64));
    const newExport = toBase64Url(randomBytes(64));
    const recoveryKey = generateRecoveryKey();
    const first = await newKeyWraps(USER, oldExport, { recoveryKey });
    const lock = first.wrappedKeys.recoveryLock;
    if (!lock) throw new Error('no lock');
    const next = await newKeyWraps(USER, newExport, { lock });
    const blob = await sealBackup(next.dataKey, await payload(), next.wrappedKeys, 2);
    await expect(unlockBackup(blob, USER, 'password', oldExport)).rejects.toThrow();
    expect(await refusal(openBackup(blob, USER, first.dataKey, { version: 2 }))).toBe(
      'backup_tampered',
    );
    for (const [kind, secret] of [
      ['password', newExport],
      ['recovery', recoveryKey],
    ] as const) {
      const u = await unlockBackup(blob, USER, kind, secret);
      expect((await openBackup(blob, USER, u.dataKey, { version: 2 })).payload.userId).toBe(USER);
    }
  });

  it('when the recovery key is rotated, then the old recovery key opens neither the new wraps nor, through an older blob, the new content', async () => {
    const exportKey = toBase64Url(randomBytes(64));
    const oldKey = generateRecoveryKey();
    const first = await newKeyWraps(USER, exportKey, { recoveryKey: oldKey });
    const oldBlob = await sealBackup(first.dataKey, await payload(), first.wrappedKeys, 1);
    const newKey = generateRecoveryKey();
    const next = await newKeyWraps(USER, exportKey, { recoveryKey: newKey });
    const blob = await sealBackup(next.dataKey, await payload(), next.wrappedKeys, 2);
    await expect(unlockBackup(blob, USER, 'recovery', oldKey)).rejects.toThrow();
    const fromOld = await unlockBackup(oldBlob, USER, 'recovery', oldKey);
    expect(await refusal(openBackup(blob, USER, fromOld.dataKey, { version: 2 }))).toBe(
      'backup_tampered',
    );
    const u = await unlockBackup(blob, USER, 'recovery', newKey);
    expect((await openBackup(blob, USER, u.dataKey, { version: 2 })).payload.userId).toBe(USER);
  });
});
