import { z } from 'zod';
import { LinkedDevices, type LinkedDevice } from '../backup/key-backup.js';
import type { ProtocolStore } from '../storage/protocol-store.js';

export { LinkedDevices, type LinkedDevice };

/** This device's own announcement: what to send, and whether it went out. */
const OwnAnnouncement = z.strictObject({
  /** The device id announced (a re-registered device announces its new id). */
  deviceId: z.number().int().positive(),
  /** When this device id was registered. */
  linkedAt: z.number().int().nonnegative(),
  /** Whether the announcement reached the server. */
  sent: z.boolean(),
});
/** This device's own announcement. */
export type OwnAnnouncement = z.infer<typeof OwnAnnouncement>;

const META_LINKED = 'linkedDevices';
const META_FOREIGN = 'foreignDevices';
const META_HELD = 'heldForForeignDevice';
const META_SELF_CONVERSATION = 'selfConversationId';
const META_ANNOUNCEMENT = 'ownAnnouncement';

/** Device ids whose bundle carried another identity key, with when that was seen. */
const ForeignDevices = z.record(z.string().regex(/^\d+$/), z.number());
const HeldMessages = z.array(z.string()).max(10_000);

/**
 * Typed access to the device metadata in the local store (every read is schema-checked: what
 * rests on disk is untrusted input too).
 */
export const deviceRecords = {
  /**
   * @param store local store
   * @returns announced devices of my account
   */
  async linked(store: ProtocolStore): Promise<LinkedDevices> {
    const parsed = LinkedDevices.safeParse(await store.getMeta(META_LINKED));
    return parsed.success ? parsed.data : {};
  },
  /**
   * @param store local store
   * @param devices announced devices to add (newer entries win)
   */
  async addLinked(store: ProtocolStore, devices: LinkedDevices): Promise<void> {
    await store.setMeta(META_LINKED, { ...(await deviceRecords.linked(store)), ...devices });
  },
  /**
   * @param store local store
   * @returns device ids seen with a foreign identity key
   */
  async foreign(store: ProtocolStore): Promise<Record<string, number>> {
    const parsed = ForeignDevices.safeParse(await store.getMeta(META_FOREIGN));
    return parsed.success ? parsed.data : {};
  },
  /**
   * @param store local store
   * @param deviceIds devices to mark foreign
   * @returns the ids that were not marked before
   */
  async markForeign(store: ProtocolStore, deviceIds: number[]): Promise<number[]> {
    const known = await deviceRecords.foreign(store);
    const fresh = deviceIds.filter((d) => known[String(d)] === undefined);
    for (const d of fresh) known[String(d)] = Date.now();
    await store.setMeta(META_FOREIGN, known);
    return fresh;
  },
  /**
   * Forgets a device (removed from the account).
   * @param store local store
   * @param deviceId the device
   */
  async forget(store: ProtocolStore, deviceId: number): Promise<void> {
    const foreign = await deviceRecords.foreign(store);
    delete foreign[String(deviceId)];
    await store.setMeta(META_FOREIGN, foreign);
    const linked = await deviceRecords.linked(store);
    delete linked[String(deviceId)];
    await store.setMeta(META_LINKED, linked);
  },
  /**
   * @param store local store
   * @returns ids of messages that failed with `foreign_device` (re-sent once it is removed)
   */
  async held(store: ProtocolStore): Promise<string[]> {
    const parsed = HeldMessages.safeParse(await store.getMeta(META_HELD));
    return parsed.success ? parsed.data : [];
  },
  /**
   * @param store local store
   * @param ids the held message ids (replaces the list)
   */
  async setHeld(store: ProtocolStore, ids: string[]): Promise<void> {
    await store.setMeta(META_HELD, [...new Set(ids)].slice(-10_000));
  },
  /**
   * @param store local store
   * @returns my self conversation's id, once known
   */
  async selfConversation(store: ProtocolStore): Promise<string | undefined> {
    const v = await store.getMeta(META_SELF_CONVERSATION);
    return typeof v === 'string' ? v : undefined;
  },
  /**
   * @param store local store
   * @param id my self conversation's id
   */
  async setSelfConversation(store: ProtocolStore, id: string): Promise<void> {
    await store.setMeta(META_SELF_CONVERSATION, id);
  },
  /**
   * @param store local store
   * @returns this device's announcement state
   */
  async announcement(store: ProtocolStore): Promise<OwnAnnouncement | undefined> {
    const parsed = OwnAnnouncement.safeParse(await store.getMeta(META_ANNOUNCEMENT));
    return parsed.success ? parsed.data : undefined;
  },
  /**
   * @param store local store
   * @param value this device's announcement state
   */
  async setAnnouncement(store: ProtocolStore, value: OwnAnnouncement): Promise<void> {
    await store.setMeta(META_ANNOUNCEMENT, value);
  },
};
