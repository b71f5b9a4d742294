import { describe, expect, it } from 'vitest';
import { fromBase64, fromUtf8, randomBytes, toBase64, toBase64Url, utf8 } from '../protocol/bytes.js';
import { generateLocalIdentity, generatePreKeys, generateSignedPreKey } from '../protocol/keys.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import { createTestDevice } from '../testing/test-device.js';
import {
  BackupUnlockError,
  buildBackupPayload,
  compactSessionRecord,
  generateDataKey,
  newKeyWraps,
  openBackup,
  privateStateFromBackup,
  sealBackup,
  unlockBackup,
  wrapDataKey,
} from './key-backup.js';
import { formatRecoveryKey, generateRecoveryKey, parseRecoveryKey } from './recovery-key.js';

const USER = '5b0e6c1e-8f3a-4c1b-9d2e-0a1b2c3d4e5f';

async function deviceState() {
  const store = createMemoryStore();
  const identity = await generateLocalIdentity();
  await store.setLocalIdentity(identity);
  await store.putSignedPreKey(await generateSignedPreKey(identity.identityKeyPair, 1));
  await store.putPreKeys(await generatePreKeys(1, 2));
  await store.putSession('peer.1', '{"sessions":{},"version":"v1"}');
  await store.putIdentity({ userId: 'peer', publicKey: identity.identityKeyPair.pubKey, status: 'trusted', updatedAt: 1 });
  return { store, identity, state: await store.exportPrivateState() };
}

describe('recovery key', () => {
  it('when generated, then it is 13 groups of 4 base32 chars and parses back to 32 bytes', () => {
    const key = generateRecoveryKey();
    expect(key).toMatch(/^([A-Z2-7]{4}-){12}[A-Z2-7]{4}$/);
    const bytes = parseRecoveryKey(key);
    expect(bytes).toHaveLength(32);
    expect(formatRecoveryKey(bytes)).toBe(key);
    // People may type it in lower case with spaces.
    expect(parseRecoveryKey(key.toLowerCase().replace(/-/g, ' '))).toEqual(bytes);
  });

  it('when mistyped, then parsing fails', () => {
    const key = generateRecoveryKey();
    expect(() => parseRecoveryKey(key.slice(0, -1))).toThrow();
    expect(() => parseRecoveryKey(key.replace(/.$/, '0'))).toThrow();
    expect(() => parseRecoveryKey(key.slice(0, -1) + 'Z')).toThrow(); // padding bits set
  });
});

describe('key backup', () => {
  it('when sealed, then the export key and the recovery key each unlock it and restore the identity', async () => {
    const { state, identity } = await deviceState();
    const exportKey = toBase64Url(randomBytes(64));
    const recoveryKey = generateRecoveryKey();
    const { dataKey, wrappedKeys: wraps } = await newKeyWraps(USER, exportKey, { recoveryKey });
    const blob = await sealBackup(dataKey, buildBackupPayload(USER, 1, state), wraps, 1);

    // No secret, key or state appears in the blob.
    const text = fromUtf8(fromBase64(blob));
    expect(text).not.toContain(toBase64(identity.identityKeyPair.privKey));
    expect(text).not.toContain('peer.1');

    for (const [kind, secret] of [
      ['password', exportKey],
      ['recovery', recoveryKey],
    ] as const) {
      const { dataKey: unwrapped } = await unlockBackup(blob, USER, kind, secret);
      const { payload } = await openBackup(blob, USER, unwrapped);
      const restored = privateStateFromBackup(payload, 4242);
      expect(restored.identity?.identityKeyPair.privKey).toBe(toBase64(identity.identityKeyPair.privKey));
      expect(restored.identity?.registrationId).toBe(4242);
      expect(restored.identities.map((i) => i.userId)).toEqual(['peer']);
      // Restoring device 1 brings back its prekeys and sessions too.
      const same = privateStateFromBackup(payload, 1, 1);
      expect(same.sessions).toEqual(state.sessions);
      expect(same.preKeys).toEqual(state.preKeys);
      expect(same.identity?.registrationId).toBe(state.identity?.registrationId);
      const store = createMemoryStore();
      await store.importPrivateState(same);
      expect(await store.exportPrivateState()).toEqual(state);
    }
  });

  it('when the wrong password, recovery key or account is used, or the blob is tampered, then it fails with BackupUnlockError', async () => {
    const { state } = await deviceState();
    const exportKey = toBase64Url(randomBytes(64));
    const { dataKey, wrappedKeys: wraps } = await newKeyWraps(USER, exportKey, { recoveryKey: generateRecoveryKey() });
    const blob = await sealBackup(dataKey, buildBackupPayload(USER, 1, state), wraps, 1);
    await expect(unlockBackup(blob, USER, 'password', toBase64Url(randomBytes(64)))).rejects.toBeInstanceOf(
      BackupUnlockError,
    );
    await expect(unlockBackup(blob, USER, 'recovery', generateRecoveryKey())).rejects.toBeInstanceOf(BackupUnlockError);
    await expect(unlockBackup(blob, USER, 'recovery', 'not a key')).rejects.toBeInstanceOf(BackupUnlockError);
    await expect(unlockBackup(blob, 'someone-else', 'password', exportKey)).rejects.toBeInstanceOf(BackupUnlockError);

    // Re-labelled for another user: the user id is associated data of both the wrap and the content.
    const sealed = JSON.parse(fromUtf8(fromBase64(blob))) as Record<string, unknown>;
    const relabelled = toBase64(utf8(JSON.stringify({ ...sealed, userId: 'other' })));
    await expect(unlockBackup(relabelled, 'other', 'password', exportKey)).rejects.toBeInstanceOf(BackupUnlockError);
    await expect(openBackup(relabelled, 'other', dataKey)).rejects.toBeInstanceOf(BackupUnlockError);

    const ct = fromBase64(sealed.ciphertext as string);
    ct[3] = (ct[3] ?? 0) ^ 1;
    const tampered = toBase64(utf8(JSON.stringify({ ...sealed, ciphertext: toBase64(ct) })));
    await expect(openBackup(tampered, USER, dataKey)).rejects.toBeInstanceOf(BackupUnlockError);
    await expect(openBackup('bm90IGpzb24=', USER, dataKey)).rejects.toBeInstanceOf(BackupUnlockError);
  });

  it('when two devices back up, then merging keeps both device sections and the newest identity records', async () => {
    const a = await deviceState();
    const payloadA = buildBackupPayload(USER, 1, a.state);
    const b = createMemoryStore();
    await b.importPrivateState(privateStateFromBackup(payloadA, 777));
    await b.putIdentity({ userId: 'peer', publicKey: new Uint8Array(33).fill(5), status: 'untrusted', updatedAt: 99 });
    await b.putIdentity({ userId: 'carol', publicKey: new Uint8Array(33).fill(5), status: 'trusted', updatedAt: 5 });
    const merged = buildBackupPayload(USER, 2, await b.exportPrivateState(), payloadA);
    expect(Object.keys(merged.devices).sort()).toEqual(['1', '2']);
    expect(merged.devices['1']).toEqual(payloadA.devices['1']);
    expect(merged.devices['2']?.registrationId).toBe(777);
    const peer = merged.identities.find((i) => i.userId === 'peer');
    expect(peer?.status).toBe('untrusted');
    expect(merged.identities.map((i) => i.userId).sort()).toEqual(['carol', 'peer']);
  });

  it('when the password of an account without a recovery lock changes, then a new password wrap opens the same data key and the old one no longer does', async () => {
    const { state } = await deviceState();
    const dataKey = await generateDataKey();
    const oldExport = toBase64Url(randomBytes(64));
    const newExport = toBase64Url(randomBytes(64));
    const legacyRecovery = await wrapDataKey(dataKey, 'recovery', generateRecoveryKey(), USER);
    const payload = buildBackupPayload(USER, 1, state);
    const blob = await sealBackup(dataKey, payload, { password: await wrapDataKey(dataKey, 'password', newExport, USER), legacyRecovery }, 2);
    const { dataKey: k } = await unlockBackup(blob, USER, 'password', newExport);
    expect((await openBackup(blob, USER, k)).payload.userId).toBe(USER);
    await expect(unlockBackup(blob, USER, 'password', oldExport)).rejects.toBeInstanceOf(BackupUnlockError);
  });

  it('when a session record holds archived states, then the backup keeps only the open session and it still works', async () => {
    const alice = await createTestDevice('alice', 1);
    const bob = await createTestDevice('bob', 1);
    // Two X3DH runs with the same device: the first session is archived in Alice's record.
    await alice.protocol.processBundle('bob', await bob.bundle());
    await alice.protocol.processBundle('bob', await bob.bundle());
    const record = (await alice.store.getSession('bob.1'))!;
    expect(Object.keys((JSON.parse(record) as { sessions: object }).sessions)).toHaveLength(2);
    const compacted = compactSessionRecord(record);
    expect(Object.keys((JSON.parse(compacted) as { sessions: object }).sessions)).toHaveLength(1);
    expect(compactSessionRecord('not json')).toBe('not json');

    const payload = buildBackupPayload(USER, 1, await alice.store.exportPrivateState());
    expect(payload.devices['1']?.sessions['bob.1']).toBe(compacted);
    // A device restored from the compacted state keeps talking to Bob.
    const restored = await createTestDevice('alice', 1);
    await restored.store.importPrivateState(privateStateFromBackup(payload, 1, 1));
    const c = await restored.protocol.encrypt('bob', 1, utf8('from the restored state'));
    expect(fromUtf8(await bob.protocol.decrypt('alice', 1, c.type, c.body))).toBe('from the restored state');
  });
});

describe('device names in the key backup', () => {
  it('when devices merge their backups, then the end-to-end device names of both survive the seal, and older backups without names still open', async () => {
    const { state } = await deviceState();
    const first = buildBackupPayload(USER, 1, state, undefined, { '1': { name: 'Firefox on Linux', linkedAt: 10 } });
    const merged = buildBackupPayload(USER, 2, state, first, { '2': { name: 'Chromium on Android', linkedAt: 20 } });
    expect(merged.linkedDevices).toEqual({
      '1': { name: 'Firefox on Linux', linkedAt: 10 },
      '2': { name: 'Chromium on Android', linkedAt: 20 },
    });
    const dataKey = await generateDataKey();
    const wraps = { password: await wrapDataKey(dataKey, 'password', 'pw', USER) };
    const opened = await openBackup(await sealBackup(dataKey, merged, wraps, 3), USER, dataKey);
    expect(opened.payload.linkedDevices).toEqual(merged.linkedDevices);
    const old = buildBackupPayload(USER, 1, state);
    expect(old.linkedDevices).toBeUndefined();
    expect((await openBackup(await sealBackup(dataKey, old, wraps, 4), USER, dataKey)).payload.linkedDevices).toBeUndefined();
  });
});
