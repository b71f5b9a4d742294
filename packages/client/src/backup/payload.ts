import { z } from 'zod';
import { PrivateStateSchema } from '../storage/kv-protocol-store.js';
import type { PrivateState } from '../storage/protocol-store.js';
import { GroupViewsState, mergeViewsState } from '../client/groups-state.js';

/** The decrypted content of the key backup and how devices build and merge it. */

const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

const DeviceSection = z.strictObject({
  registrationId: z.number().int(),
  preKeys: PrivateStateSchema.shape.preKeys,
  signedPreKeys: PrivateStateSchema.shape.signedPreKeys,
  sessions: PrivateStateSchema.shape.sessions,
  updatedAt: z.number(),
});

/** A device of mine as its own end-to-end announcement named it. */
export const LinkedDevice = z.strictObject({
  /** Name chosen by that device's client ("Chrome on Linux"). */
  name: z.string().min(1).max(64),
  /** When it was linked, epoch milliseconds (its own clock). */
  linkedAt: z.number().int().nonnegative(),
});
/** A device of mine as its own end-to-end announcement named it. */
export type LinkedDevice = z.infer<typeof LinkedDevice>;

/** Announced devices by device id (also carried in the key backup, so a new device learns them). */
export const LinkedDevices = z.record(z.string().regex(/^\d+$/), LinkedDevice);
/** Announced devices by device id. */
export type LinkedDevices = z.infer<typeof LinkedDevices>;

/**
 * The encrypted content: the account identity key and trusted contact identities, plus one
 * section per device (registration id, prekeys, sessions). Devices write their own section
 * and merge the rest, so two devices never erase each other's state.
 */
export const BackupPayload = z.strictObject({
  v: z.literal(1),
  userId: z.string(),
  identityKeyPair: z.strictObject({ pubKey: B64, privKey: B64 }),
  identities: PrivateStateSchema.shape.identities,
  devices: z.record(z.string(), DeviceSection),
  /** Names of my devices from their end-to-end announcements (absent in older backups). */
  linkedDevices: LinkedDevices.optional(),
  /**
   * My own views of my groups and the pinned peers of my direct chats (`GroupViewsState`), so a
   * new device starts with them instead of trusting the server's member lists. Absent in
   * backups written before group views: such an account adopts its groups once.
   */
  groups: z.unknown().optional(),
  updatedAt: z.number(),
});
/** The decrypted backup content. */
export type BackupPayload = z.infer<typeof BackupPayload>;

/**
 * Keeps only the open session of a serialized session record (the library also keeps up to 40
 * archived states per address, which would push a backup over the server's size limit; archived
 * states only matter for messages in flight at the moment of a session reset).
 * @param record serialized record from the library
 * @returns the compacted record (unchanged if it cannot be parsed)
 */
export function compactSessionRecord(record: string): string {
  try {
    const parsed = JSON.parse(record) as { sessions?: Record<string, { indexInfo?: { closed?: number } }> };
    if (!parsed.sessions || typeof parsed.sessions !== 'object') return record;
    const open = Object.entries(parsed.sessions).filter(([, v]) => v?.indexInfo?.closed === -1);
    if (open.length === 0) return record;
    return JSON.stringify({ ...parsed, sessions: Object.fromEntries(open) });
  } catch {
    return record;
  }
}

/**
 * Builds the payload from this device's state, merging another payload (from the server).
 * My device section and identity records win for what I hold; other devices' sections are
 * kept; identity records merge by newest `updatedAt`.
 * @param userId account
 * @param deviceId this device
 * @param state this device's private state
 * @param base payload to merge into (latest from the server), if any
 * @param linkedDevices names of my devices known here (merged over the base's)
 * @param groups this device's group views (merged with the base's: newest view per group)
 * @returns the merged payload
 */
export function buildBackupPayload(
  userId: string,
  deviceId: number,
  state: PrivateState,
  base?: BackupPayload,
  linkedDevices?: LinkedDevices,
  groups?: GroupViewsState,
): BackupPayload {
  if (!state.identity) throw new Error('no local identity to back up');
  const identities = new Map((base?.identities ?? []).map((i) => [i.userId, i]));
  for (const i of state.identities) {
    const other = identities.get(i.userId);
    if (!other || other.updatedAt <= i.updatedAt) identities.set(i.userId, i);
  }
  const now = Date.now();
  const baseGroups = GroupViewsState.safeParse(base?.groups);
  const mergedGroups = mergeViewsState(groups, baseGroups.success ? baseGroups.data : undefined);
  return {
    v: 1,
    userId,
    identityKeyPair: state.identity.identityKeyPair,
    identities: [...identities.values()],
    ...(mergedGroups ? { groups: mergedGroups } : {}),
    devices: {
      ...(base?.devices ?? {}),
      [String(deviceId)]: {
        registrationId: state.identity.registrationId,
        preKeys: [...state.preKeys],
        signedPreKeys: [...state.signedPreKeys],
        sessions: Object.fromEntries(Object.entries(state.sessions).map(([k, v]) => [k, compactSessionRecord(v)])),
        updatedAt: now,
      },
    },
    ...(base?.linkedDevices || linkedDevices ? { linkedDevices: { ...base?.linkedDevices, ...linkedDevices } } : {}),
    updatedAt: now,
  };
}

/**
 * The private state to import from a backup: the account identity and contact identities, and
 * (when restoring a device that has a section) its prekeys and sessions.
 * @param payload decrypted backup
 * @param registrationId registration id for a new device
 * @param deviceId device to restore, if any
 * @returns state for `ProtocolStore.importPrivateState`
 */
export function privateStateFromBackup(payload: BackupPayload, registrationId: number, deviceId?: number): PrivateState {
  const section = deviceId === undefined ? undefined : payload.devices[String(deviceId)];
  return {
    identity: { identityKeyPair: payload.identityKeyPair, registrationId: section?.registrationId ?? registrationId },
    preKeys: section?.preKeys ?? [],
    signedPreKeys: section?.signedPreKeys ?? [],
    sessions: section?.sessions ?? {},
    identities: payload.identities,
  };
}
