import { z } from 'zod';
import { fromBase64, fromUtf8, randomBytes, toBase64, utf8 } from '../protocol/bytes.js';
import { PrivateStateSchema } from '../storage/kv-protocol-store.js';
import type { PrivateState } from '../storage/protocol-store.js';
import { GroupViewsState, mergeViewsState } from '../client/groups-state.js';
import { parseRecoveryKey } from './recovery-key.js';

/**
 * Key backup, WebCrypto only.
 *
 *   dataKey   = random AES-256-GCM key (per account, stable across uploads)
 *   blob.ct   = AES-256-GCM(dataKey, iv, JSON(payload), aad = UTF-8(userId))
 *   kek_pw    = HKDF-SHA256(ikm = OPAQUE export key, salt = random 32 B, info = "cipherchat/backup/v1/kek/password")
 *   kek_rk    = HKDF-SHA256(ikm = recovery key (256 random bits), salt, info = ".../kek/recovery")
 *   wrapped_x = AES-256-GCM(kek_x, iv, raw dataKey, aad = "cipherchat/backup/v1/wrap/<x>/<userId>")
 *
 * The server stores the versioned blob and never sees the export key, the recovery key or the
 * data key. The OPAQUE export key is stable for one password registration, so a password
 * change or reset re-wraps the (unchanged) data key; the recovery wrap is kept as is.
 */

/** Format marker and version of the blob. */
export const BACKUP_FORMAT = 'cipherchat-key-backup';
/** Current blob version. */
export const BACKUP_VERSION = 1;

const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const Wrap = z.strictObject({ salt: B64, iv: B64, wrapped: B64 });
/** How the data key is wrapped, by kind. */
export const WrappedKeys = z.strictObject({ password: Wrap.optional(), recovery: Wrap.optional() });
/** How the data key is wrapped, by kind. */
export type WrappedKeys = z.infer<typeof WrappedKeys>;
/** Which secret wraps a copy of the data key. */
export type WrapKind = 'password' | 'recovery';

/** The outer blob (JSON, then base64 for transport). Only ciphertext and public parameters. */
const SealedBackup = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  v: z.literal(BACKUP_VERSION),
  userId: z.string(),
  iv: B64,
  ciphertext: B64,
  wrappedKeys: WrappedKeys,
});

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

const subtle = () => globalThis.crypto.subtle;

/**
 * A new random data key (extractable only so that it can be wrapped; it never leaves memory
 * in clear).
 * @returns AES-256-GCM key
 */
export function generateDataKey(): Promise<CryptoKey> {
  return subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
}

async function deriveKek(kind: WrapKind, secret: Uint8Array, salt: Uint8Array): Promise<CryptoKey> {
  const ikm = await subtle().importKey('raw', secret as Uint8Array<ArrayBuffer>, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, info: utf8(`cipherchat/backup/v1/kek/${kind}`) },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['wrapKey', 'unwrapKey'],
  );
}

function wrapAad(kind: WrapKind, userId: string) {
  return utf8(`cipherchat/backup/v1/wrap/${kind}/${userId}`);
}

/**
 * The secret bytes for a wrap kind: the OPAQUE export key (base64url text from
 * `@serenity-kit/opaque`) or the printed recovery key.
 * @param kind which secret
 * @param secret export key or recovery key text
 * @returns bytes
 */
export function secretBytes(kind: WrapKind, secret: string): Uint8Array {
  return kind === 'password' ? fromBase64(secret) : parseRecoveryKey(secret);
}

/**
 * Wraps the data key under a password- or recovery-derived key.
 * @param dataKey the data key
 * @param kind which secret
 * @param secret OPAQUE export key (base64url) or recovery key text
 * @param userId the account (associated data)
 * @returns the wrap record
 */
export async function wrapDataKey(
  dataKey: CryptoKey,
  kind: WrapKind,
  secret: string,
  userId: string,
): Promise<z.infer<typeof Wrap>> {
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const kek = await deriveKek(kind, secretBytes(kind, secret), salt);
  const wrapped = await subtle().wrapKey('raw', dataKey, kek, {
    name: 'AES-GCM',
    iv,
    additionalData: wrapAad(kind, userId),
  });
  return { salt: toBase64(salt), iv: toBase64(iv), wrapped: toBase64(wrapped) };
}

/** The backup cannot be opened with the given secret (wrong password/recovery key, or tampered). */
export class BackupUnlockError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackupUnlockError';
  }
}

/**
 * Seals a payload into a transportable blob.
 * @param dataKey the data key
 * @param payload content
 * @param wrappedKeys current wraps of the data key
 * @returns base64 text for `PUT /api/chat/backup`
 */
export async function sealBackup(dataKey: CryptoKey, payload: BackupPayload, wrappedKeys: WrappedKeys): Promise<string> {
  const iv = randomBytes(12);
  const ciphertext = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: utf8(payload.userId) },
    dataKey,
    utf8(JSON.stringify(BackupPayload.parse(payload))),
  );
  const sealed: z.infer<typeof SealedBackup> = {
    format: BACKUP_FORMAT,
    v: BACKUP_VERSION,
    userId: payload.userId,
    iv: toBase64(iv),
    ciphertext: toBase64(ciphertext),
    wrappedKeys,
  };
  return toBase64(utf8(JSON.stringify(sealed)));
}

function parseSealed(blob: string, userId: string): z.infer<typeof SealedBackup> {
  let sealed: z.infer<typeof SealedBackup>;
  try {
    sealed = SealedBackup.parse(JSON.parse(fromUtf8(fromBase64(blob))));
  } catch (err) {
    throw new BackupUnlockError('backup blob is malformed', { cause: err });
  }
  if (sealed.userId !== userId) throw new BackupUnlockError('backup belongs to another account');
  return sealed;
}

/**
 * Unwraps the data key with a secret.
 * @param blob the stored blob
 * @param userId expected account
 * @param kind which secret
 * @param secret export key or recovery key text
 * @returns the data key and the wraps in the blob
 * @throws {BackupUnlockError} wrong secret, missing wrap or tampered blob
 */
export async function unlockBackup(
  blob: string,
  userId: string,
  kind: WrapKind,
  secret: string,
): Promise<{ dataKey: CryptoKey; wrappedKeys: WrappedKeys }> {
  const sealed = parseSealed(blob, userId);
  const wrap = sealed.wrappedKeys[kind];
  if (!wrap) throw new BackupUnlockError(`backup has no ${kind} wrap`);
  let bytes: Uint8Array;
  try {
    bytes = secretBytes(kind, secret);
  } catch (err) {
    throw new BackupUnlockError(`invalid ${kind} secret`, { cause: err });
  }
  try {
    const kek = await deriveKek(kind, bytes, fromBase64(wrap.salt));
    const dataKey = await subtle().unwrapKey(
      'raw',
      fromBase64(wrap.wrapped),
      kek,
      { name: 'AES-GCM', iv: fromBase64(wrap.iv), additionalData: wrapAad(kind, userId) },
      { name: 'AES-GCM', length: 256 },
      true,
      ['encrypt', 'decrypt'],
    );
    return { dataKey, wrappedKeys: sealed.wrappedKeys };
  } catch (err) {
    throw new BackupUnlockError(`the ${kind} secret does not open this backup`, { cause: err });
  }
}

/**
 * Decrypts a blob with the data key.
 * @param blob the stored blob
 * @param userId expected account (associated data)
 * @param dataKey the data key
 * @returns payload and the wraps in the blob
 * @throws {BackupUnlockError} when it does not decrypt
 */
export async function openBackup(
  blob: string,
  userId: string,
  dataKey: CryptoKey,
): Promise<{ payload: BackupPayload; wrappedKeys: WrappedKeys }> {
  const sealed = parseSealed(blob, userId);
  try {
    const plain = await subtle().decrypt(
      { name: 'AES-GCM', iv: fromBase64(sealed.iv), additionalData: utf8(userId) },
      dataKey,
      fromBase64(sealed.ciphertext),
    );
    return { payload: BackupPayload.parse(JSON.parse(fromUtf8(plain))), wrappedKeys: sealed.wrappedKeys };
  } catch (err) {
    throw new BackupUnlockError('backup does not decrypt', { cause: err });
  }
}

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
