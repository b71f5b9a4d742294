import { FORMAT_VERSION, type DeviceAnnouncement, type PlaintextMessage, type StoredMessage } from '../messages/message.schema.js';
import { randomId } from '../protocol/bytes.js';
import type { IncomingEnvelope } from '../transport/socket-client.js';
import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import type { EmitFn, SendOptions } from './client-types.js';
import type { ContactSessions } from './contact-sessions.js';
import { DeviceKeys } from './device-keys.js';
import { deviceRecords } from './device-records.js';
import type { MessageSender } from './message-sender.js';
import type { Realtime } from './realtime.js';
import type { SessionSlot } from './session.js';

/** One of my devices as `ChatClient.devices()` presents it. */
export interface OwnDevice {
  deviceId: number;
  /** Its name from its own end-to-end announcement (this device: its own name); null if never announced. */
  name: string | null;
  /** When the server registered it (ISO 8601, the server's word). */
  createdAt: string;
  /**
   * The start of the hour in which it last connected or proved itself (ISO 8601, the server's
   * word, coarse on purpose); null when the server does not know.
   */
  lastActiveAt: string | null;
  /** This device. */
  current: boolean;
  /**
   * `linked`: this device, or announced to me end to end by a device holding my identity key;
   * `foreign`: its bundle carries another identity key (not mine: nothing is encrypted for it);
   * `unknown`: never announced and not checked yet.
   */
  status: 'linked' | 'unknown' | 'foreign';
  /** Whether it uploaded keys (only such devices receive messages). */
  hasKeys: boolean;
}

/** Two automatic re-registrations closer than this: the second waits for a password login. */
export const RELINK_PAUSE_MS = 10 * 60_000;

/** What {@link OwnDevices} needs. */
export interface OwnDevicesDeps {
  api: ApiClient;
  session: SessionSlot;
  deviceKeys: DeviceKeys;
  realtime: Realtime;
  sender: MessageSender;
  contacts: ContactSessions;
  /** Puts a failed message back into the outgoing queue (the queue exists after construction). */
  retry: (messageId: string, options: SendOptions) => Promise<StoredMessage>;
  emit: EmitFn;
}

/**
 * My own devices: the list with end-to-end names and trust status, removal, the device
 * announcement in my self conversation, ghost ("foreign") devices, and re-registration when the
 * server removed this device.
 */
export class OwnDevices {
  /** When this device last registered itself again after a removal (see {@link relink}). */
  private lastRelinkAt: number | undefined;

  private announcing: Promise<void> = Promise.resolve();
  private relinking: Promise<void> | undefined;
  /** Writes of held message ids, awaited by {@link remove}. */
  private noting: Promise<void> = Promise.resolve();

  /** @param deps collaborators */
  constructor(private readonly deps: OwnDevicesDeps) {}

  /**
   * @returns my devices with names from their announcements and their status
   */
  async list(): Promise<OwnDevice[]> {
    const { api, session, deviceKeys } = this.deps;
    const s = session.require();
    const [devices, linked, foreign, me] = await Promise.all([
      api.chat.myDevices(),
      deviceRecords.linked(s.store),
      deviceRecords.foreign(s.store),
      deviceKeys.deviceId(),
    ]);
    return devices.map((d) => {
      const key = String(d.deviceId);
      const current = d.deviceId === me;
      // A device seen under another identity key stays foreign whatever it announced before.
      const status = current ? 'linked' : foreign[key] !== undefined ? 'foreign' : linked[key] ? 'linked' : 'unknown';
      return {
        deviceId: d.deviceId,
        name: current ? deviceKeys.deviceName : (linked[key]?.name ?? null),
        createdAt: d.createdAt,
        lastActiveAt: d.lastActiveAt ?? null,
        current,
        status,
        hasKeys: d.hasKeys,
      };
    });
  }

  /**
   * Removes one of my other devices (`DELETE /devices/:id` with this device's proof), then puts
   * the messages held back by a foreign device back into the queue.
   * @param deviceId the device
   * @throws {ApiError} `validation_error` for this device (log out instead); `invalid_device_credentials`
   */
  async remove(deviceId: number): Promise<void> {
    const { api, session, deviceKeys } = this.deps;
    const s = session.require();
    if (deviceId === (await deviceKeys.deviceId())) {
      throw new ApiError(400, 'validation_error', 'this device cannot remove itself; log out instead');
    }
    await api.chat.deleteDevice(deviceId, await deviceKeys.proof());
    await deviceRecords.forget(s.store, deviceId);
    await s.protocol.deleteSession(s.user.id, deviceId);
    // A foreign device's key upload made the server reset this device's keys and serve its
    // identity key for the account: upload mine again (setup notices the missing prekeys).
    await deviceKeys.setup();
    await this.noting;
    const held = await deviceRecords.held(s.store);
    await deviceRecords.setHeld(s.store, []);
    for (const id of held) {
      const m = await s.store.getMessage(id);
      if (m?.status === 'failed' && m.failure?.code === 'foreign_device') await this.deps.retry(id, { wait: false });
    }
  }

  /**
   * Removes this device from my account (log out): the key backup is flushed first (it needs
   * this device's proof), then `DELETE /devices/:id` with this device's own proof; the server
   * drops its prekeys and mailbox, and contacts' next sends see it gone (`stale_devices`). The
   * local store forgets the device id and secret, so a later login here registers a new device.
   * @returns nothing; a 404 (already removed) counts as done
   * @throws {ApiError} when the server refused or could not be reached (the device stays)
   */
  async removeSelf(): Promise<void> {
    const { api, session, deviceKeys } = this.deps;
    const s = session.require();
    const me = await deviceKeys.deviceId();
    if (me === undefined) return;
    // No removal of a device whose state is not backed up: a failed flush throws.
    await s.backup.flush();
    try {
      await api.chat.deleteDevice(me, await deviceKeys.proof());
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    await DeviceKeys.forgetDevice(s.store);
    deviceKeys.cachedId = undefined;
  }

  /**
   * A send met devices of mine under another identity key: remember them and tell the app.
   * @param deviceIds the devices
   */
  async onForeignDevices(deviceIds: number[]): Promise<void> {
    const s = this.deps.session.require();
    await deviceRecords.markForeign(s.store, deviceIds);
    const listed = await this.deps.api.chat.myDevices().catch(() => []);
    for (const deviceId of deviceIds) {
      const createdAt = listed.find((d) => d.deviceId === deviceId)?.createdAt ?? new Date().toISOString();
      this.deps.emit('foreignDevice', { deviceId, createdAt });
    }
  }

  /**
   * The outgoing queue gave a message up: one held back by a foreign device is re-sent once
   * that device is removed.
   * @param message the failed message
   * @param code why
   */
  async onSendFailed(message: StoredMessage, code: string): Promise<void> {
    const s = this.deps.session.current;
    if (!s || code !== 'foreign_device') return;
    const run = this.noting.then(async () => deviceRecords.setHeld(s.store, [...(await deviceRecords.held(s.store)), message.id]));
    this.noting = run.catch(() => undefined);
    await run;
  }

  /** Sends this device's pending announcement to my other devices (when there are any). */
  announce(): Promise<void> {
    const run = this.announcing.then(() => this.announceNow());
    this.announcing = run.catch(() => undefined);
    return run;
  }

  private async announceNow(): Promise<void> {
    const { session, deviceKeys, realtime, api } = this.deps;
    const s = session.current;
    if (!s || !realtime.connected) return;
    const pending = await deviceRecords.announcement(s.store);
    if (!pending || pending.sent || pending.deviceId !== (await deviceKeys.deviceId())) return;
    const others = (await api.chat.myDevices()).filter((d) => d.deviceId !== pending.deviceId && d.hasKeys);
    if (others.length > 0) {
      // Sessions with my other devices first (their bundles must carry my identity key): a
      // message needs at least one envelope.
      await this.deps.contacts.ensure(s.user.id, others.map((d) => d.deviceId));
      await this.sendAnnouncement(pending.deviceId, pending.linkedAt);
    }
    await deviceRecords.setAnnouncement(s.store, { ...pending, sent: true });
  }

  private async sendAnnouncement(deviceId: number, linkedAt: number): Promise<void> {
    const s = this.deps.session.require();
    const conversationId = await this.selfConversation();
    const device: DeviceAnnouncement = { deviceId, name: this.deps.deviceKeys.deviceName.slice(0, 64) || 'device', linkedAt };
    // Only to me: should the server list anyone else in my self conversation, nothing is sent.
    const plain: PlaintextMessage = { v: FORMAT_VERSION, kind: 'device', id: randomId(), conversationId, sentAt: Date.now(), device };
    await this.deps.sender.fanOut(conversationId, plain, undefined, [s.user.id]);
    s.backup.schedule();
  }

  /**
   * @returns my self conversation's id (created once; the server keeps one per user)
   */
  async selfConversation(): Promise<string> {
    const s = this.deps.session.require();
    const known = await deviceRecords.selfConversation(s.store);
    if (known) return known;
    const created = await this.deps.api.chat.createConversation({ kind: 'self', memberIds: [s.user.id] }, await this.deps.deviceKeys.proof());
    await deviceRecords.setSelfConversation(s.store, created.id);
    return created.id;
  }

  /**
   * An incoming `device` plaintext (already decrypted, so the sender holds my identity key or
   * a session made under it). Accepted only from my own account and for the sending device.
   * @param env the envelope
   * @param plain the plaintext
   */
  async onAnnouncement(env: IncomingEnvelope, plain: PlaintextMessage): Promise<void> {
    const { session, deviceKeys, emit } = this.deps;
    const s = session.require();
    const device = plain.device;
    const me = await deviceKeys.deviceId();
    if (!device || env.senderUserId !== s.user.id || device.deviceId !== env.senderDeviceId || device.deviceId === me) {
      emit('decryptFailed', { messageId: env.messageId, senderUserId: env.senderUserId, senderDeviceId: env.senderDeviceId, code: 'invalid_announcement' });
      return;
    }
    const key = String(device.deviceId);
    const known = (await deviceRecords.linked(s.store))[key];
    // My devices talk in one self conversation: adopt the one my other device used.
    if (!(await deviceRecords.selfConversation(s.store))) await deviceRecords.setSelfConversation(s.store, env.conversationId);
    await deviceRecords.addLinked(s.store, { [key]: { name: device.name, linkedAt: device.linkedAt } });
    s.backup.schedule();
    const mine = await deviceRecords.announcement(s.store);
    const myLinkedAt = mine && mine.deviceId === me ? mine.linkedAt : 0;
    if (device.linkedAt < myLinkedAt) return; // an older device answering my own announcement
    emit('deviceLinked', { deviceId: device.deviceId, name: device.name, linkedAt: device.linkedAt });
    // A new device: answer once with my own announcement, so it learns my name too.
    // Not awaited: the inbox goes on while the answer is encrypted and sent.
    if (!known && me !== undefined) void this.sendAnnouncement(me, myLinkedAt).catch((err: unknown) => emit('error', err));
  }

  /**
   * The server no longer knows this device (removed from another device): forget its id and
   * secret, keep identity, history and the outgoing queue, register a new device, reconnect.
   * When the server wants a recent password login first, emits `deviceRemoved {needsLogin: true}`:
   * the next `logIn` over the same local store registers the device and keeps the history.
   */
  relink(): Promise<void> {
    this.relinking ??= this.relinkNow().finally(() => (this.relinking = undefined));
    return this.relinking;
  }

  private async relinkNow(): Promise<void> {
    const { session, deviceKeys, realtime, emit } = this.deps;
    const s = session.current;
    if (!s) return;
    realtime.disconnect();
    await DeviceKeys.forgetDevice(s.store);
    deviceKeys.cachedId = undefined;
    // A server that keeps saying "unknown device" must not make this client register device
    // after device: a second removal within RELINK_PAUSE_MS waits for the user's password.
    const now = Date.now();
    if (this.lastRelinkAt !== undefined && now - this.lastRelinkAt < RELINK_PAUSE_MS) {
      emit('deviceRemoved', { needsLogin: true });
      return;
    }
    this.lastRelinkAt = now;
    try {
      await deviceKeys.setup();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'fresh_login_required') {
        emit('deviceRemoved', { needsLogin: true });
        return;
      }
      throw err;
    }
    emit('deviceRemoved', { needsLogin: false });
    await realtime.connect();
  }
}
