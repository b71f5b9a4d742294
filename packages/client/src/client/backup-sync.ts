import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import { GroupViewsState } from './groups-state.js';
import { META_GROUP_VIEWS } from './group-views.js';
import {
  assertNotRolledBack,
  BackupRefusedError,
  buildBackupPayload,
  openBackup,
  sealBackup,
  type BackupPayload,
  type WrappedKeys,
} from '../backup/key-backup.js';
import type { DeviceProof } from '../transport/chat-endpoints.js';
import { deviceRecords } from './device-records.js';

/** Longest a state change waits for its backup upload while changes keep coming. */
const MAX_WAIT_MS = 30_000;

/** Local meta key of the high-water mark: the highest backup version this device has seen or written. */
const META_HIGH_WATER = 'backupHighWater';

/**
 * @param store this account's local store
 * @returns the highest backup version this device has seen or written (0: none)
 */
export async function readHighWater(store: ProtocolStore): Promise<number> {
  const v = await store.getMeta(META_HIGH_WATER);
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0;
}

/**
 * Raises the high-water mark (never lowers it).
 * @param store this account's local store
 * @param version a backup version seen or written
 */
export async function raiseHighWater(store: ProtocolStore, version: number): Promise<void> {
  if (version > (await readHighWater(store))) await store.setMeta(META_HIGH_WATER, version);
}

/** A stored backup as the server returns it. */
export interface RemoteBackup {
  version: number;
  blob: string;
}

/**
 * `GET /api/chat/backup`.
 * @param api client
 * @returns the backup, or undefined when there is none yet
 */
export async function fetchBackup(api: ApiClient): Promise<RemoteBackup | undefined> {
  try {
    return await api.chat.getBackup();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/**
 * Keeps the server's key backup in step with the local private state: uploads are debounced,
 * serialised, and on `409 version_conflict` the newest backup is fetched, checked (not older
 * than this device's high-water mark, sealed for the version served, wraps intact), merged
 * (other devices' sections kept) and the upload retried. A refused backup stops uploads until
 * the next login (`BackupRefusedError`, also reported through `onError`).
 */
export class BackupSync {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private firstDirtyAt: number | undefined;
  private running: Promise<void> = Promise.resolve();
  private dirty = false;
  /**
   * Set by `setWrappedKeys` until an upload carrying those wraps succeeds: only then does a
   * version conflict keep this device's wraps instead of adopting the server's.
   */
  private wrapsChangedHere = false;
  /** The data key before a re-key here, until an upload under the new one succeeds. */
  private previousDataKey: CryptoKey | undefined;
  /** Set when the server's backup was refused: no more uploads in this session. */
  private halted: BackupRefusedError | undefined;
  /** Set for an offline session: no uploads (its base and version are not the server's). */
  private held = false;
  /** Last error of a background upload (surfaced by the client as an event). */
  onError: ((err: unknown) => void) | undefined;
  /**
   * Called (and awaited) when a version conflict made this device adopt the server's wraps, so
   * the caller can persist them (another device changed or reset the password).
   */
  onWrappedKeysAdopted: ((wrappedKeys: WrappedKeys) => Promise<void> | void) | undefined;

  /**
   * @param api HTTP client
   * @param store local state
   * @param ctx account, device, data key and wraps
   * @param debounceMs quiet period before a background upload
   */
  constructor(
    private readonly api: ApiClient,
    private readonly store: ProtocolStore,
    private readonly ctx: {
      userId: string;
      deviceId: () => number | undefined;
      /** This device's proof (`X-Device-Id` + `X-Device-Secret`), required by `PUT /backup`. */
      proof: () => Promise<DeviceProof | undefined>;
      dataKey: CryptoKey;
      wrappedKeys: WrappedKeys;
      version: number;
      base: BackupPayload | undefined;
    },
    private readonly debounceMs = 1000,
  ) {}

  /**
   * Replaces the wraps (after a password change on an account whose backup has no recovery lock
   * yet). They win over the server's at the next version conflict.
   * @param wrappedKeys the new wraps
   */
  setWrappedKeys(wrappedKeys: WrappedKeys): void {
    this.setKeys(this.ctx.dataKey, wrappedKeys);
  }

  /**
   * Re-keys the backup (password change, reset, recovery-key rotation): the next upload is sealed
   * under the new data key with the new wraps, which win over the server's at a version conflict.
   * @param dataKey the new data key
   * @param wrappedKeys its wraps
   * @param changedHere false to go back to keys the server already holds (a failed rotation)
   */
  setKeys(dataKey: CryptoKey, wrappedKeys: WrappedKeys, changedHere = true): void {
    if (changedHere && dataKey !== this.ctx.dataKey) this.previousDataKey ??= this.ctx.dataKey;
    if (!changedHere) this.previousDataKey = undefined;
    this.ctx.dataKey = dataKey;
    this.ctx.wrappedKeys = wrappedKeys;
    this.wrapsChangedHere = changedHere;
  }

  /** The version this device last wrote or read. */
  get version(): number {
    return this.ctx.version;
  }

  /**
   * Never uploads (an offline session: it did not read the server's backup, so an upload could
   * drop other devices' sections). A completed session gets a new `BackupSync`.
   */
  hold(): void {
    this.held = true;
  }

  /** Marks the state changed and uploads after the quiet period. */
  schedule(): void {
    if (this.halted || this.held) return;
    this.dirty = true;
    this.firstDirtyAt ??= Date.now();
    if (this.timer) clearTimeout(this.timer);
    // Debounced, but never postponed past MAX_WAIT_MS under continuous traffic.
    const wait = Math.max(0, Math.min(this.debounceMs, this.firstDirtyAt + MAX_WAIT_MS - Date.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: unknown) => this.onError?.(err));
    }, wait);
  }

  /**
   * Uploads now (waits for any running upload first).
   * @returns when the server holds the current state
   */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.dirty = true;
    const run = this.running.then(() => this.uploadIfDirty());
    this.running = run.catch(() => undefined);
    return run;
  }

  /** Stops background uploads. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async uploadIfDirty(): Promise<void> {
    if (this.halted) throw this.halted;
    if (this.held) throw new ApiError(0, 'not_connected', 'offline: the key backup is uploaded once the server is reached');
    if (!this.dirty) return;
    this.dirty = false;
    this.firstDirtyAt = undefined;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const deviceId = this.ctx.deviceId() ?? 0;
      const state = await this.store.exportPrivateState();
      const groups = GroupViewsState.safeParse(await this.store.getMeta(META_GROUP_VIEWS));
      const linked = await deviceRecords.linked(this.store);
      const payload = buildBackupPayload(this.ctx.userId, deviceId, state, this.ctx.base, linked, groups.success ? groups.data : undefined);
      const wrappedKeys = this.ctx.wrappedKeys;
      const version = this.ctx.version + 1;
      const blob = await sealBackup(this.ctx.dataKey, payload, wrappedKeys, version);
      try {
        await this.api.chat.putBackup({ version, blob }, await this.ctx.proof());
        this.ctx.version = version;
        this.ctx.base = payload;
        await raiseHighWater(this.store, version);
        if (this.ctx.wrappedKeys === wrappedKeys) {
          this.wrapsChangedHere = false;
          this.previousDataKey = undefined;
        }
        return;
      } catch (err) {
        if (!(err instanceof ApiError) || (err.code !== 'version_conflict' && err.status !== 409)) {
          this.dirty = true;
          throw err;
        }
        // Another device uploaded meanwhile: take its state as the base and retry.
        const latest = await this.fetchChecked();
        if (latest) {
          const opened = await this.openLatest(latest);
          this.ctx.base = opened.payload;
          this.ctx.version = latest.version;
          // Its wraps too, unless the password changed here: that device may have changed or
          // reset the password, and re-uploading this device's older wraps would lock the
          // backup against the current password.
          if (!this.wrapsChangedHere && opened.dataKey === this.ctx.dataKey) {
            this.ctx.wrappedKeys = opened.wrappedKeys;
            await this.onWrappedKeysAdopted?.(opened.wrappedKeys);
          }
        }
      }
    }
    this.dirty = true;
    throw new ApiError(409, 'version_conflict', 'backup upload kept conflicting');
  }

  private refuse(err: BackupRefusedError): never {
    this.halted = err;
    this.dirty = false;
    throw err;
  }

  /** The newest backup, refused when older than this device's high-water mark. */
  private async fetchChecked(): Promise<RemoteBackup | undefined> {
    const latest = await fetchBackup(this.api);
    try {
      assertNotRolledBack(latest?.version, await readHighWater(this.store));
    } catch (err) {
      if (err instanceof BackupRefusedError) this.refuse(err);
      throw err;
    }
    return latest;
  }

  /**
   * Opens the newest backup with the data key (or, while a re-key here is not uploaded yet, the
   * one before it). A backup neither opens was re-keyed elsewhere (or altered): refused.
   */
  private async openLatest(latest: RemoteBackup): Promise<Awaited<ReturnType<typeof openBackup>> & { dataKey: CryptoKey }> {
    const expect = { version: latest.version, highWater: await readHighWater(this.store) };
    for (const dataKey of [this.ctx.dataKey, this.previousDataKey]) {
      if (!dataKey) continue;
      try {
        const opened = await openBackup(latest.blob, this.ctx.userId, dataKey, expect);
        await raiseHighWater(this.store, latest.version);
        return { ...opened, dataKey };
      } catch (err) {
        if (!(err instanceof BackupRefusedError)) throw err;
        if (err.code !== 'backup_tampered') this.refuse(err);
      }
    }
    return this.refuse(new BackupRefusedError('backup_key_changed'));
  }
}
