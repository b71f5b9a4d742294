import { z } from 'zod';
import { fromBase64, fromUtf8, randomBytes, toBase64, utf8 } from '../protocol/bytes.js';
import { BackupPayload } from './payload.js';
import {
  BackupUnlockError,
  fromLegacyWraps,
  LegacyWrappedKeys,
  unwrapDataKey,
  WrappedKeys,
  wrapsDigest,
  type WrapKind,
} from './wraps.js';

/**
 * The sealed blob (JSON, then base64 for transport). Format 2:
 *
 *   ciphertext = AES-256-GCM(dataKey, iv, JSON(payload),
 *                aad = "cipherchat/backup/v2\n<userId>\n<version>\n" || SHA-256(wraps))
 *
 * `version` is the server's backup version the blob was written for (`PUT /backup`), so the
 * server can neither serve it under another version nor pair it with other wraps. Format 1
 * (aad = userId only) is still read once, and then rewritten as format 2.
 */

/** Format marker of the blob. */
export const BACKUP_FORMAT = 'cipherchat-key-backup';
/** Current blob format. */
export const BACKUP_VERSION = 2;

const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const SealedV1 = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  v: z.literal(1),
  userId: z.string(),
  iv: B64,
  ciphertext: B64,
  wrappedKeys: LegacyWrappedKeys,
});
const SealedV2 = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  v: z.literal(2),
  userId: z.string(),
  version: z.number().int().positive(),
  iv: B64,
  ciphertext: B64,
  wrappedKeys: WrappedKeys,
});
const Sealed = z.discriminatedUnion('v', [SealedV1, SealedV2]);
type Sealed = z.infer<typeof Sealed>;

/** Why a backup was refused although it may be the account's. */
export type BackupRefusal =
  'backup_rollback' | 'backup_version_mismatch' | 'backup_tampered' | 'backup_key_changed';

const REFUSALS: Record<BackupRefusal, string> = {
  backup_rollback: 'The server offered an older copy of your keys; it was refused',
  backup_version_mismatch:
    'The server offered a copy of your keys under another version number; it was refused',
  backup_tampered: 'The copy of your keys on the server was altered; it was refused',
  backup_key_changed:
    'Your key backup was re-keyed on another device (password or recovery key changed); log in again on this device',
};

/**
 * A backup this device refuses: older than one it has seen (`backup_rollback`), served under
 * another version than it was sealed for, altered or with swapped wraps, or sealed under a data
 * key this device no longer holds.
 */
export class BackupRefusedError extends BackupUnlockError {
  /**
   * @param code why
   * @param options cause
   */
  constructor(
    readonly code: BackupRefusal,
    options?: { cause?: unknown },
  ) {
    super(REFUSALS[code], options);
    this.name = 'BackupRefusedError';
  }
}

const subtle = () => globalThis.crypto.subtle;

async function contentAad(
  userId: string,
  version: number,
  wrappedKeys: WrappedKeys,
): Promise<Uint8Array<ArrayBuffer>> {
  const digest = toBase64(await wrapsDigest(wrappedKeys));
  return utf8(`cipherchat/backup/v2\n${userId}\n${version}\n${digest}`);
}

/**
 * Seals a payload into a transportable blob (format 2).
 * @param dataKey the data key
 * @param payload content
 * @param wrappedKeys current wraps of the data key (bound under the AEAD)
 * @param version the backup version this blob is uploaded as
 * @returns base64 text for `PUT /api/chat/backup`
 */
export async function sealBackup(
  dataKey: CryptoKey,
  payload: BackupPayload,
  wrappedKeys: WrappedKeys,
  version: number,
): Promise<string> {
  const iv = randomBytes(12);
  const wraps = WrappedKeys.parse(wrappedKeys);
  const ciphertext = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: await contentAad(payload.userId, version, wraps) },
    dataKey,
    utf8(JSON.stringify(BackupPayload.parse(payload))),
  );
  const sealed: z.infer<typeof SealedV2> = {
    format: BACKUP_FORMAT,
    v: BACKUP_VERSION,
    userId: payload.userId,
    version,
    iv: toBase64(iv),
    ciphertext: toBase64(ciphertext),
    wrappedKeys: wraps,
  };
  return toBase64(utf8(JSON.stringify(sealed)));
}

function parseSealed(blob: string, userId: string): Sealed {
  let sealed: Sealed;
  try {
    sealed = Sealed.parse(JSON.parse(fromUtf8(fromBase64(blob))));
  } catch (err) {
    throw new BackupUnlockError('backup blob is malformed', { cause: err });
  }
  if (sealed.userId !== userId) throw new BackupUnlockError('backup belongs to another account');
  return sealed;
}

function wrapsOf(sealed: Sealed): WrappedKeys {
  return sealed.v === 1 ? fromLegacyWraps(sealed.wrappedKeys) : sealed.wrappedKeys;
}

/**
 * Refuses a backup version below this device's high-water mark.
 * @param version the version the server offers (undefined: it has none)
 * @param highWater highest version this device has seen or written (0: none)
 * @throws {BackupRefusedError} `backup_rollback`
 */
export function assertNotRolledBack(version: number | undefined, highWater: number): void {
  if (highWater > 0 && (version === undefined || version < highWater))
    throw new BackupRefusedError('backup_rollback');
}

/**
 * Unwraps the data key with a secret (the content is checked by {@link openBackup}).
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
  const wrappedKeys = wrapsOf(parseSealed(blob, userId));
  return { dataKey: await unwrapDataKey(wrappedKeys, userId, kind, secret), wrappedKeys };
}

/** What the reader expects of a blob. */
export interface OpenExpectations {
  /** The version the server served it under (format 2 must have been sealed for it). */
  version?: number | undefined;
  /** This device's high-water mark: an older version, or format 1 once it is set, is refused. */
  highWater?: number | undefined;
}

/**
 * Decrypts a blob with the data key, checking that its version and wraps are the ones sealed
 * with the content.
 * @param blob the stored blob
 * @param userId expected account (associated data)
 * @param dataKey the data key
 * @param expect version served and this device's high-water mark
 * @returns payload, the wraps in the blob, and `legacy` for format 1 (to be rewritten)
 * @throws {BackupRefusedError} rollback, version mismatch or tampering
 * @throws {BackupUnlockError} malformed or another account's
 */
export async function openBackup(
  blob: string,
  userId: string,
  dataKey: CryptoKey,
  expect: OpenExpectations = {},
): Promise<{ payload: BackupPayload; wrappedKeys: WrappedKeys; legacy: boolean }> {
  const sealed = parseSealed(blob, userId);
  const highWater = expect.highWater ?? 0;
  assertNotRolledBack(expect.version, highWater);
  if (sealed.v === 1 && highWater > 0) throw new BackupRefusedError('backup_rollback');
  if (sealed.v === 2 && expect.version !== undefined && sealed.version !== expect.version) {
    throw new BackupRefusedError('backup_version_mismatch');
  }
  const wrappedKeys = wrapsOf(sealed);
  const additionalData =
    sealed.v === 1 ? utf8(userId) : await contentAad(userId, sealed.version, wrappedKeys);
  let plain: ArrayBuffer;
  try {
    plain = await subtle().decrypt(
      { name: 'AES-GCM', iv: fromBase64(sealed.iv), additionalData },
      dataKey,
      fromBase64(sealed.ciphertext),
    );
  } catch (err) {
    throw new BackupRefusedError('backup_tampered', { cause: err });
  }
  try {
    return {
      payload: BackupPayload.parse(JSON.parse(fromUtf8(plain))),
      wrappedKeys,
      legacy: sealed.v === 1,
    };
  } catch (err) {
    throw new BackupUnlockError('backup content is malformed', { cause: err });
  }
}
