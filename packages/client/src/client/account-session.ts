import { Me, type AuthResult } from '@cipherchat/contracts';
import { z } from 'zod';
import {
  assertNotRolledBack,
  BackupRefusedError,
  BackupUnlockError,
  fromLegacyWraps,
  LegacyWrappedKeys,
  newKeyWraps,
  openBackup,
  privateStateFromBackup,
  unlockBackup,
  WrappedKeys as WrappedKeysSchema,
  type BackupPayload,
  type WrappedKeys,
} from '../backup/key-backup.js';
import { generateRecoveryKey } from '../backup/recovery-key.js';
import { fromBase64, toBase64 } from '../protocol/bytes.js';
import { generateLocalIdentity, generateRegistrationId } from '../protocol/keys.js';
import { SignalProtocol, type IdentityChange } from '../protocol/signal-protocol.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import { BackupSync, fetchBackup, raiseHighWater, readHighWater } from './backup-sync.js';
import { BackupLockedError, type ChatClientOptions, type EmitFn, type LogInResult } from './client-types.js';
import { DeviceKeys } from './device-keys.js';
import { isUnreachable, offlineCache } from './offline-cache.js';
import { deviceRecords } from './device-records.js';
import type { SessionSlot } from './session.js';

/**
 * The backup data key, its wraps and the OPAQUE export key of the last password entry, kept in
 * the local store so a reload can resume (and rotate the recovery key) without the password. In
 * browsers the store seals every record with the non-extractable device key, so this is as
 * protected as the identity private key next to it.
 */
const META_BACKUP_KEY = 'backupKey';
const BackupKeyMeta = z.object({ dataKey: z.string(), wrappedKeys: z.unknown(), exportKey: z.string().optional() });

/** Wraps kept by this client or an older one (format-1 shape). */
function savedWraps(value: unknown): WrappedKeys {
  const current = WrappedKeysSchema.safeParse(value);
  if (current.success) return current.data;
  const legacy = LegacyWrappedKeys.safeParse(value);
  return legacy.success ? fromLegacyWraps(legacy.data) : {};
}

/** What {@link AccountSessions} needs. */
export interface AccountSessionsDeps {
  api: ApiClient;
  session: SessionSlot;
  deviceKeys: DeviceKeys;
  emit: EmitFn;
  openStore: ChatClientOptions['openStore'];
  backupDebounceMs: number;
  /** The protocol layer's identity-change hook (identities). */
  onIdentityChange: (change: IdentityChange) => void;
  /**
   * A session was opened on a store (the receiver loads its seen ids, the group views load with
   * the key backup's `groups`; `exists`: there was a backup at all).
   */
  onStarted: (store: ProtocolStore, backup: { exists: boolean; groups?: unknown }) => Promise<void>;
}

/**
 * Opens and closes the account on this device: the local store, the identity (local, restored
 * from the key backup, or new), the key backup's data key, and the session slot.
 */
export class AccountSessions {
  /** @param deps collaborators */
  constructor(private readonly deps: AccountSessionsDeps) {}

  private openStore(userId: string, exportKey: string | undefined): Promise<ProtocolStore> {
    return (this.deps.openStore ?? (async () => createMemoryStore()))(userId, { exportKey });
  }

  /**
   * Opens the account after OPAQUE: tokens, store, identity (local / backup / new), device.
   * @param auth the login answer
   * @param exportKey OPAQUE export key
   * @param input `recoveryKey` for a backup sealed under an older password; `startFresh` for a new identity
   * @returns the login result (without connecting)
   * @throws {BackupLockedError} the backup needs the recovery key
   */
  async open(
    auth: AuthResult,
    exportKey: string,
    input: { recoveryKey?: string | undefined; startFresh?: boolean | undefined },
  ): Promise<LogInResult> {
    const { api } = this.deps;
    api.setTokens({
      accessToken: auth.accessToken,
      refreshToken: auth.refreshToken,
      accessTokenExpiresAt: auth.accessTokenExpiresAt,
    });
    const userId = auth.user.id;
    const store = await this.openStore(userId, exportKey);
    const remote = await fetchBackup(api);
    // This device refuses a backup older than one it has seen (its high-water mark).
    const highWater = input.startFresh ? 0 : await readHighWater(store);
    assertNotRolledBack(remote?.version, highWater);

    let identity: LogInResult['identity'] = 'local';
    let recoveryKey: string | undefined;
    let dataKey: CryptoKey;
    let wrappedKeys: WrappedKeys;
    let base: BackupPayload | undefined;
    let rewrapped = false;

    if (remote && !input.startFresh) {
      let unlocked: { dataKey: CryptoKey; wrappedKeys: WrappedKeys };
      let recoveryKeyUsed: string | undefined;
      try {
        unlocked = await unlockBackup(remote.blob, userId, 'password', exportKey);
      } catch (err) {
        if (!(err instanceof BackupUnlockError)) throw err;
        if (!input.recoveryKey) throw new BackupLockedError();
        unlocked = await unlockBackup(remote.blob, userId, 'recovery', input.recoveryKey);
        recoveryKeyUsed = input.recoveryKey;
      }
      // Checks the version it was sealed for and that its wraps are the ones sealed with it.
      const opened = await openBackup(remote.blob, userId, unlocked.dataKey, { version: remote.version, highWater });
      base = opened.payload;
      dataKey = unlocked.dataKey;
      wrappedKeys = opened.wrappedKeys;
      rewrapped = opened.legacy;
      if (recoveryKeyUsed) {
        // Password reset: a new data key for the new password and the same recovery key, so the
        // old password and any older blob open nothing sealed from now on.
        const lock = opened.wrappedKeys.recoveryLock;
        ({ dataKey, wrappedKeys } = await newKeyWraps(userId, exportKey, lock ? { lock } : { recoveryKey: recoveryKeyUsed }));
        rewrapped = true;
      }
      const local = await store.getLocalIdentity();
      if (!local || local.identityKeyPair.pubKey.length === 0 || toBase64(local.identityKeyPair.pubKey) !== base.identityKeyPair.pubKey) {
        // New device (or stale local state): the account identity comes from the backup;
        // this device gets its own registration id, prekeys and device id.
        await store.importPrivateState(privateStateFromBackup(base, generateRegistrationId()));
        await DeviceKeys.forgetDevice(store);
        identity = 'restored';
      }
    } else {
      const local = await store.getLocalIdentity();
      if (!local || input.startFresh) {
        await store.clear();
        await store.setLocalIdentity(await generateLocalIdentity());
        identity = 'created';
      }
      recoveryKey = generateRecoveryKey();
      ({ dataKey, wrappedKeys } = await newKeyWraps(userId, exportKey, { recoveryKey }));
    }

    if (remote && !input.startFresh) await raiseHighWater(store, remote.version);
    await this.start({ user: auth.user, exportKey, store, dataKey, wrappedKeys, version: remote?.version ?? 0, base });
    await this.deps.deviceKeys.setup();
    if (identity !== 'local' || rewrapped || !remote || input.startFresh) await this.deps.session.require().backup.flush();
    return { user: auth.user, identity, recoveryKey };
  }

  /**
   * Re-opens the account after a reload without the password: needs a live session (cookies
   * or tokens) and this device's local store from an earlier login. Also completes an offline
   * session (see {@link resumeOffline}) once the server answers: a session the server no longer
   * knows, or another account signed in meanwhile, needs a full login.
   * @param offlineAs the account last signed in on this device: when the server cannot be
   *   reached, open it from the local store alone (docs/client.md "Offline")
   * @returns the user, or undefined when a full login is needed
   */
  async resume(offlineAs?: string): Promise<Me | undefined> {
    const { api } = this.deps;
    let me: Me;
    try {
      me = await api.request('user', 'GET', '/me', { schema: Me });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return undefined;
      if (offlineAs && isUnreachable(err) && !this.deps.session.current) return this.resumeOffline(offlineAs, err);
      throw err;
    }
    const offline = this.deps.session.current?.offline ? this.deps.session.current : undefined;
    if (offline && offline.user.id !== me.id) return undefined;
    const store = offline?.store ?? (await this.openStore(me.id, undefined));
    const saved = BackupKeyMeta.safeParse(await store.getMeta(META_BACKUP_KEY));
    if (!(await store.getLocalIdentity()) || !saved.success || !(await DeviceKeys.hasDevice(store))) return undefined;
    const dataKey = await globalThis.crypto.subtle.importKey('raw', fromBase64(saved.data.dataKey), 'AES-GCM', true, [
      'encrypt',
      'decrypt',
    ]);
    const remote = await fetchBackup(api);
    const highWater = await readHighWater(store);
    assertNotRolledBack(remote?.version, highWater);
    let opened: Awaited<ReturnType<typeof openBackup>> | undefined;
    try {
      opened = remote ? await openBackup(remote.blob, me.id, dataKey, { version: remote.version, highWater }) : undefined;
    } catch (err) {
      // Re-keyed on another device (password change or reset, recovery-key rotation): this
      // device's data key opens nothing current, so a full login is needed.
      if (err instanceof BackupRefusedError && err.code === 'backup_tampered') return undefined;
      throw err;
    }
    if (remote) await raiseHighWater(store, remote.version);
    offline?.backup.stop();
    await this.start({
      user: me,
      exportKey: saved.data.exportKey ?? '',
      store,
      dataKey,
      // The server's wraps are current (checked under the data key; another device may have
      // changed the password without re-keying an account that has no recovery lock yet).
      wrappedKeys: opened?.wrappedKeys ?? savedWraps(saved.data.wrappedKeys),
      version: remote?.version ?? 0,
      base: opened?.payload,
    });
    await this.deps.deviceKeys.setup();
    // A format-1 backup is rewritten in the current format once.
    if (opened?.legacy) await this.deps.session.require().backup.flush();
    return me;
  }

  /**
   * Opens the account from this device's local store while the server cannot be reached
   * (offline session): history, conversation list and names as last seen, sends queued. Only
   * for the account the caller says was signed in last, with its identity, device and backup
   * key here, whose session the server confirmed within `OFFLINE_RESUME_MAX_AGE_MS`. No
   * backup upload, no key upload and no socket until {@link resume} completes it with the
   * server (which may still end it).
   * @param userId the account
   * @param cause why the server could not be asked (thrown when the account cannot be opened)
   * @returns the user as last confirmed
   */
  private async resumeOffline(userId: string, cause: unknown): Promise<Me> {
    const store = await this.openStore(userId, undefined);
    const saved = BackupKeyMeta.safeParse(await store.getMeta(META_BACKUP_KEY));
    const me = await offlineCache.me(store, userId);
    if (!me || !saved.success || !(await store.getLocalIdentity()) || !(await DeviceKeys.hasDevice(store))) throw cause;
    const dataKey = await globalThis.crypto.subtle.importKey('raw', fromBase64(saved.data.dataKey), 'AES-GCM', true, [
      'encrypt',
      'decrypt',
    ]);
    await this.start({
      user: me,
      exportKey: saved.data.exportKey ?? '',
      store,
      dataKey,
      wrappedKeys: savedWraps(saved.data.wrappedKeys),
      version: await readHighWater(store),
      base: undefined,
      offline: true,
    });
    this.deps.deviceKeys.cachedId = await this.deps.deviceKeys.deviceId();
    return me;
  }

  private async start(input: {
    user: Me;
    exportKey: string;
    store: ProtocolStore;
    dataKey: CryptoKey;
    wrappedKeys: WrappedKeys;
    version: number;
    base: BackupPayload | undefined;
    /** Opened without the server: no backup uploads until the session is completed. */
    offline?: boolean;
  }): Promise<void> {
    const { store, user, dataKey, wrappedKeys } = input;
    const { session, deviceKeys, emit } = this.deps;
    const protocol = new SignalProtocol(store, { localUserId: user.id, onIdentityChange: (c) => this.deps.onIdentityChange(c) });
    const backup = new BackupSync(
      this.deps.api,
      store,
      {
        userId: user.id,
        deviceId: () => deviceKeys.cachedId,
        proof: () => deviceKeys.proof(),
        dataKey,
        wrappedKeys,
        version: input.version,
        base: input.base,
      },
      this.deps.backupDebounceMs,
    );
    if (input.offline) backup.hold();
    backup.onError = (err) => emit('error', err);
    backup.onWrappedKeysAdopted = async (adopted) => {
      // Another device changed or reset the password: keep its wraps here and on disk too.
      if (session.current?.backup !== backup) return;
      session.current.wrappedKeys = adopted;
      await this.saveBackupKey();
    };
    // Names of my devices recorded by my other devices (a new device learns the older ones).
    if (input.base?.linkedDevices) await deviceRecords.addLinked(store, input.base.linkedDevices);
    session.current = { user, exportKey: input.exportKey, store, protocol, backup, dataKey, wrappedKeys, ...(input.offline ? { offline: true } : {}) };
    if (input.offline) {
      // Not known whether a backup exists: never claim there is none (group views, legacy adoption).
      await this.deps.onStarted(store, { exists: true });
      return;
    }
    await this.saveBackupKey();
    await offlineCache.confirmed(store, user);
    await this.deps.onStarted(store, { exists: input.base !== undefined, groups: input.base?.groups });
  }

  /** Keeps the backup data key and its wraps in the local store (for {@link resume}). */
  async saveBackupKey(): Promise<void> {
    const s = this.deps.session.require();
    const raw = new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', s.dataKey));
    await s.store.setMeta(META_BACKUP_KEY, {
      dataKey: toBase64(raw),
      wrappedKeys: s.wrappedKeys,
      ...(s.exportKey ? { exportKey: s.exportKey } : {}),
    });
  }

  /**
   * Ends the session: uploads pending backup state, revokes the refresh token, empties the slot.
   * @param forget wipe the local store of this account
   */
  async close(forget: boolean): Promise<void> {
    const { api, session, emit } = this.deps;
    const s = session.current;
    if (s) {
      await s.backup.flush().catch((err: unknown) => emit('error', err));
      s.backup.stop();
      const refreshToken = api.getTokens()?.refreshToken;
      await api.request('user', 'POST', '/auth/logout', { json: refreshToken ? { refreshToken } : {} }).catch(() => undefined);
      if (forget) await s.store.clear();
    }
    api.setTokens(undefined);
    session.current = undefined;
    this.deps.deviceKeys.cachedId = undefined;
  }
}
