import { ProtocolError } from '../protocol/errors.js';
import {
  generatePreKeys,
  generateSignedPreKey,
  PREKEY_BATCH,
  PREKEY_REFILL_THRESHOLD,
  SIGNED_PREKEY_GRACE_MS,
  SIGNED_PREKEY_MAX_AGE_MS,
  toKeyUpload,
} from '../protocol/keys.js';
import { KeyedSerialQueue } from '../protocol/serial-queue.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import type { DeviceProof } from '../transport/chat-endpoints.js';
import { deviceRecords } from './device-records.js';
import type { SessionSlot } from './session.js';

const META_DEVICE = 'deviceId';
/**
 * This device's secret from `POST /devices`, next to its id in the local store (sealed with the
 * device key in browsers). It proves to chat-service that a socket or key upload comes from
 * this device and not just from some session of the user, so it stays on this device: it is
 * not part of the key backup.
 */
const META_DEVICE_SECRET = 'deviceSecret';
const META_KEYS_UPLOADED = 'keysUploadedForDevice';
const META_NEXT_PREKEY = 'nextPreKeyId';

/**
 * This device's registration with chat-service and its keys: registers the device once,
 * uploads its keys, refills one-time prekeys and rotates the signed prekey.
 */
export class DeviceKeys {
  /** This device's id once known (sync copy of the stored one, for the hot send path). */
  cachedId: number | undefined;
  /** Serialises {@link setup}. */
  private readonly queue = new KeyedSerialQueue();
  /** Called when a new device id of mine has its keys on the server (it should announce itself). */
  onLinked: ((deviceId: number) => void) | undefined;

  /**
   * @param api HTTP client
   * @param session the current session
   * @param deviceName this device's name: it only travels end to end, in its announcement
   */
  constructor(
    private readonly api: ApiClient,
    private readonly session: SessionSlot,
    readonly deviceName: string,
  ) {}

  /** @returns this device's proof (`X-Device-Id` + `X-Device-Secret`), once set up */
  async proof(): Promise<DeviceProof | undefined> {
    const deviceId = await this.deviceId();
    const deviceSecret = await this.deviceSecret();
    return deviceId !== undefined && deviceSecret !== undefined ? { deviceId, deviceSecret } : undefined;
  }

  /** @returns this device's id, once set up. */
  async deviceId(): Promise<number | undefined> {
    const v = await this.session.current?.store.getMeta(META_DEVICE);
    return typeof v === 'number' ? v : undefined;
  }

  /** @returns this device's secret (header `x-device-secret`, handshake `auth.deviceSecret`), once set up. */
  async deviceSecret(): Promise<string | undefined> {
    const v = await this.session.current?.store.getMeta(META_DEVICE_SECRET);
    return typeof v === 'string' && v !== '' ? v : undefined;
  }

  /**
   * @param store a local store
   * @returns whether that store has a device registered
   */
  static async hasDevice(store: ProtocolStore): Promise<boolean> {
    return typeof (await store.getMeta(META_DEVICE)) === 'number';
  }

  /**
   * Forgets the device registration in a store (the identity came from a backup: this device
   * registers anew, with its own registration id and prekeys).
   * @param store the local store
   */
  static async forgetDevice(store: ProtocolStore): Promise<void> {
    await store.setMeta(META_DEVICE, undefined);
    await store.setMeta(META_DEVICE_SECRET, undefined);
    await store.setMeta(META_KEYS_UPLOADED, undefined);
  }

  /**
   * Registers this device (once; its id and device secret stay in the local store), uploads
   * its keys, refills one-time prekeys below the threshold and rotates the signed prekey when
   * it is older than a few days.
   * @param refill the server said this device's one-time prekeys run low (`prekeys:low`):
   *   upload a batch unless the server holds a full batch already (a lying server cannot make
   *   this device pile up private keys)
   */
  setup(refill = false): Promise<void> {
    // One at a time: a login, the maintenance timer and every incoming first message ask for it.
    // Two runs at once would both register a device or both refill prekeys under the same key
    // ids, and the server could keep one batch's public keys while this store kept the other's
    // private keys: every first message made from those bundles would then fail to decrypt.
    return this.queue.run('device', () => this.setupNow(refill));
  }

  private async setupNow(refill: boolean): Promise<void> {
    try {
      await this.setupOnce(refill);
    } catch (err) {
      // 403 on this device's own key routes: the server no longer has it (removed from another
      // device). Forget it, keep the identity and history, and register anew.
      if (!(err instanceof ApiError && err.status === 403)) throw err;
      await DeviceKeys.forgetDevice(this.session.require().store);
      this.cachedId = undefined;
      await this.setupOnce(refill);
    }
  }

  private async setupOnce(refill = false): Promise<void> {
    const s = this.session.require();
    const local = await s.store.getLocalIdentity();
    if (!local) throw new ProtocolError('no_local_identity', 'no identity');
    let deviceId = await this.deviceId();
    let deviceSecret = await this.deviceSecret();
    let legacyId: number | undefined;
    if (deviceId !== undefined && deviceSecret === undefined) {
      // Registered before device secrets existed: that device can no longer authenticate, so
      // register anew and then remove it with the new device's proof (best effort: the server
      // may have removed it already).
      legacyId = deviceId;
      await s.store.setMeta(META_DEVICE, undefined);
      await s.store.setMeta(META_KEYS_UPLOADED, undefined);
      deviceId = undefined;
    }
    if (deviceId === undefined || deviceSecret === undefined) {
      const created = await this.api.chat.createDevice();
      const replacing = (await s.store.listSessionAddresses()).length > 0;
      deviceId = created.deviceId;
      deviceSecret = created.deviceSecret;
      // The secret first: a device id stored without its secret would be thrown away next time.
      await s.store.setMeta(META_DEVICE_SECRET, deviceSecret);
      await s.store.setMeta(META_DEVICE, deviceId);
      // Peers' sessions are bound to my old device address: a replacement device starts over
      // (its first messages are PreKeyWhispers, which the peers accept under my same identity).
      if (replacing) for (const a of await s.store.listSessionAddresses()) await s.store.removeSession(a);
      await deviceRecords.setAnnouncement(s.store, { deviceId, linkedAt: Date.now(), sent: false });
      if (legacyId !== undefined) {
        await this.api.chat.deleteDevice(legacyId, { deviceId, deviceSecret }).catch(() => undefined);
      }
    }
    this.cachedId = deviceId;

    let changed = false;
    let signed = (await s.store.listSignedPreKeys()).at(-1);
    const now = Date.now();
    const rotate = !signed || now - signed.createdAt > SIGNED_PREKEY_MAX_AGE_MS;
    if (rotate) {
      signed = await generateSignedPreKey(local.identityKeyPair, ((signed?.keyId ?? 0) % 0xffffff) + 1, now);
      await s.store.putSignedPreKey(signed);
      // Keep older signed prekeys for a grace period: first messages may still be in flight.
      for (const old of await s.store.listSignedPreKeys()) {
        if (old.keyId !== signed.keyId && now - old.createdAt > SIGNED_PREKEY_GRACE_MS) {
          await s.store.removeSignedPreKey(old.keyId);
        }
      }
      changed = true;
    }
    if (!signed) throw new Error('unreachable: no signed prekey');

    const uploadedFor = await s.store.getMeta(META_KEYS_UPLOADED);
    let needPreKeys = uploadedFor !== deviceId;
    if (!needPreKeys) {
      const count = await this.api.chat.preKeyCount(deviceId, deviceSecret);
      needPreKeys = count < (refill ? PREKEY_BATCH : PREKEY_REFILL_THRESHOLD);
    }
    if (needPreKeys || rotate) {
      const next = Number((await s.store.getMeta(META_NEXT_PREKEY)) ?? 1);
      const preKeys = needPreKeys ? await generatePreKeys(next, PREKEY_BATCH) : [];
      if (preKeys.length > 0) {
        await s.store.putPreKeys(preKeys);
        await s.store.setMeta(META_NEXT_PREKEY, ((next - 1 + PREKEY_BATCH) % 0xffffff) + 1);
      }
      await this.api.chat.uploadKeys(deviceId, deviceSecret, toKeyUpload(local, signed, preKeys));
      await s.store.setMeta(META_KEYS_UPLOADED, deviceId);
      changed = true;
    }
    if (changed) s.backup.schedule();
    const announcement = await deviceRecords.announcement(s.store);
    if (announcement?.deviceId === deviceId && !announcement.sent) this.onLinked?.(deviceId);
  }
}
