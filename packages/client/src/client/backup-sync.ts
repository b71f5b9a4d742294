import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import { GroupViewsState } from './groups-state.js';
import { META_GROUP_VIEWS } from './group-views.js';
import { buildBackupPayload, openBackup, sealBackup, type BackupPayload, type WrappedKeys } from '../backup/key-backup.js';
import type { DeviceProof } from '../transport/chat-endpoints.js';
import { deviceRecords } from './device-records.js';

/** Longest a state change waits for its backup upload while changes keep coming. */
const MAX_WAIT_MS = 30_000;

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
 * serialised, and on `409 version_conflict` the newest backup is fetched, merged (other
 * devices' sections kept) and the upload retried.
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
   * Replaces the wraps (after a password change or a recovery-key restore on this device). They
   * win over the server's at the next version conflict.
   * @param wrappedKeys the new wraps
   */
  setWrappedKeys(wrappedKeys: WrappedKeys): void {
    this.ctx.wrappedKeys = wrappedKeys;
    this.wrapsChangedHere = true;
  }

  /** Marks the state changed and uploads after the quiet period. */
  schedule(): void {
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
      const blob = await sealBackup(this.ctx.dataKey, payload, wrappedKeys);
      const version = this.ctx.version + 1;
      try {
        await this.api.chat.putBackup({ version, blob }, await this.ctx.proof());
        this.ctx.version = version;
        this.ctx.base = payload;
        if (this.ctx.wrappedKeys === wrappedKeys) this.wrapsChangedHere = false;
        return;
      } catch (err) {
        if (!(err instanceof ApiError) || (err.code !== 'version_conflict' && err.status !== 409)) {
          this.dirty = true;
          throw err;
        }
        // Another device uploaded meanwhile: take its state as the base and retry.
        const latest = await fetchBackup(this.api);
        if (latest) {
          const opened = await openBackup(latest.blob, this.ctx.userId, this.ctx.dataKey);
          this.ctx.base = opened.payload;
          this.ctx.version = latest.version;
          // Its wraps too, unless the password changed here: that device may have changed or
          // reset the password, and re-uploading this device's older wraps would lock the
          // backup against the current password.
          if (!this.wrapsChangedHere) {
            this.ctx.wrappedKeys = opened.wrappedKeys;
            await this.onWrappedKeysAdopted?.(opened.wrappedKeys);
          }
        }
      }
    }
    this.dirty = true;
    throw new ApiError(409, 'version_conflict', 'backup upload kept conflicting');
  }
}
