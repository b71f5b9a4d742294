import { ProtocolError } from '../protocol/errors.js';
import { decodeBundle } from '../protocol/keys.js';
import { KeyedSerialQueue } from '../protocol/serial-queue.js';
import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import type { DeviceKeys } from './device-keys.js';
import type { SessionSlot } from './session.js';

/**
 * Signal sessions with contacts' devices: which devices to encrypt for, and building the
 * missing sessions from the server's key bundles.
 */
export class ContactSessions {
  /** Serialises session building per contact (see {@link ensure}). */
  private readonly builds = new KeyedSerialQueue();
  /**
   * Called (and awaited) with device ids of mine whose bundle carries another identity key,
   * before the send that met them fails with `foreign_device`.
   */
  onForeignDevices: ((deviceIds: number[]) => Promise<void>) | undefined;

  /**
   * @param api HTTP client
   * @param session the current session
   * @param deviceKeys this device (left out of my own device list)
   */
  constructor(
    private readonly api: ApiClient,
    private readonly session: SessionSlot,
    private readonly deviceKeys: DeviceKeys,
  ) {}

  /**
   * Device lists per user that I should encrypt for (my own device excluded).
   * @param userIds the users
   * @returns one entry per device
   */
  async targetDevices(userIds: string[]): Promise<Array<{ userId: string; deviceId: number }>> {
    const s = this.session.require();
    const me = s.user.id;
    const out: Array<{ userId: string; deviceId: number }> = [];
    for (const userId of userIds) {
      let devices = await s.protocol.sessionDevices(userId);
      if (userId === me) devices = devices.filter((d) => d !== this.deviceKeys.cachedId);
      if (devices.length === 0 && userId !== me) {
        try {
          await this.ensure(userId);
        } catch (err) {
          // A member who has no device with keys yet cannot receive; the server agrees
          // (only keyed devices are expected), so send to the others.
          if (!(err instanceof ApiError && err.status === 404)) throw err;
        }
        devices = await s.protocol.sessionDevices(userId);
      }
      for (const deviceId of devices) out.push({ userId, deviceId });
    }
    return out;
  }

  /**
   * Builds sessions with those of a user's devices that have none yet (any device when
   * `devices` is omitted and there is no session at all). Concurrent sends (a message, its
   * typing and receipt messages) share the work: calls for one user run one at a time and each
   * re-checks, so a device gets one new session, and costs one one-time prekey, however many
   * sends need it. Existing sessions are never dropped here: one a concurrent send has just
   * built may carry its first message, and the peer answers on that session.
   * @param userId contact
   * @param devices only these devices
   */
  async ensure(userId: string, devices?: number[]): Promise<void> {
    const s = this.session.require();
    await this.builds.run(userId, async () => {
      const have = new Set(await s.protocol.sessionDevices(userId));
      if (devices ? devices.every((d) => have.has(d)) : have.size > 0) return;
      await this.fetchBundles(userId, devices?.filter((d) => !have.has(d)));
    });
  }

  /**
   * Fetches a user's bundles and builds sessions with their devices (all, or only `onlyDevices`).
   * Every device's bundle is verified by the protocol layer (signature, identity trust). A
   * device of mine under another identity key gets no session (fail closed): the others are
   * built, then this throws.
   * @param userId contact
   * @param onlyDevices only these devices
   * @throws {ApiError} `foreign_device` (status 0, `details.deviceIds`) for such devices of mine
   */
  async fetchBundles(userId: string, onlyDevices?: number[]): Promise<void> {
    const s = this.session.require();
    const answer = await this.api.chat.keyBundle(userId);
    const foreign: number[] = [];
    for (const device of answer.devices) {
      if (userId === s.user.id && device.deviceId === this.deviceKeys.cachedId) continue;
      if (onlyDevices && !onlyDevices.includes(device.deviceId)) continue;
      try {
        await s.protocol.processBundle(userId, decodeBundle(answer.identityKey, device));
      } catch (err) {
        if (!(err instanceof ProtocolError && err.code === 'foreign_device')) throw err;
        foreign.push(device.deviceId);
      }
    }
    if (foreign.length > 0) {
      await this.onForeignDevices?.(foreign);
      throw new ApiError(0, 'foreign_device', `a device on my account (${foreign.join(', ')}) is not mine; remove it to send`, {
        deviceIds: foreign,
      });
    }
  }
}
