import { z } from 'zod';
import { concatBytes, fromBase64, randomBytes, toBase64, utf8 } from '../protocol/bytes.js';
import { parseRecoveryKey } from './recovery-key.js';

/**
 * The wraps of the backup's data key, WebCrypto only (AES-256-GCM, HKDF-SHA256, ECDH P-256).
 *
 *   kek_pw   = HKDF(ikm = OPAQUE export key, salt = random 32 B, info = "cipherchat/backup/v1/kek/password")
 *   password = AES-GCM(kek_pw, iv, raw dataKey, aad = "cipherchat/backup/v1/wrap/password/<userId>")
 *
 * The recovery key opens a "recovery lock": an ECDH P-256 key pair whose private half is sealed
 * under a key derived from the recovery key, and whose public half lets any device that holds
 * the data key wrap a NEW data key for the recovery key without knowing it (so a password change
 * can rotate the data key and the recovery key still opens the result):
 *
 *   kek_rk       = HKDF(ikm = recovery key, salt, info = "cipherchat/backup/v1/kek/recovery")
 *   recoveryLock = { publicKey, AES-GCM(kek_rk, iv, pkcs8 private key, aad = ".../v2/recovery-lock/<userId>") }
 *   recovery     = { ephemeral public key E, AES-GCM(HKDF(ECDH(e, lock), salt = E || lock, info = ".../v2/wrap/recovery/<userId>"), iv, raw dataKey) }
 *
 * Backups of format 1 carried a direct recovery wrap (`kek_rk` wrapping the data key); it is
 * kept as `legacyRecovery` until the recovery key is used or rotated.
 */

const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
/** A symmetric wrap of the data key. */
export const Wrap = z.strictObject({ salt: B64, iv: B64, wrapped: B64 });
/** A symmetric wrap of the data key. */
export type Wrap = z.infer<typeof Wrap>;
/** The recovery key's lock: an ECDH public key and its private key sealed under the recovery key. */
export const RecoveryLock = z.strictObject({
  publicKey: B64,
  salt: B64,
  iv: B64,
  wrappedPrivateKey: B64,
});
/** The recovery key's lock. */
export type RecoveryLock = z.infer<typeof RecoveryLock>;
/** The data key wrapped for the recovery lock's public key. */
export const RecoveryWrap = z.strictObject({ ephemeralPublicKey: B64, iv: B64, wrapped: B64 });
/** The data key wrapped for the recovery lock's public key. */
export type RecoveryWrap = z.infer<typeof RecoveryWrap>;

/** How the data key is wrapped, by kind (all bound under the backup's AEAD). */
export const WrappedKeys = z.strictObject({
  password: Wrap.optional(),
  recovery: RecoveryWrap.optional(),
  recoveryLock: RecoveryLock.optional(),
  legacyRecovery: Wrap.optional(),
});
/** How the data key is wrapped, by kind. */
export type WrappedKeys = z.infer<typeof WrappedKeys>;
/** The wraps of a format-1 backup. */
export const LegacyWrappedKeys = z.strictObject({
  password: Wrap.optional(),
  recovery: Wrap.optional(),
});
/** Which secret wraps a copy of the data key. */
export type WrapKind = 'password' | 'recovery';

/** The backup cannot be opened with the given secret (wrong password/recovery key, or tampered). */
export class BackupUnlockError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackupUnlockError';
  }
}

const subtle = () => globalThis.crypto.subtle;
const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;

/**
 * Maps the wraps of a format-1 backup (or of a local record written by an older client).
 * @param legacy format-1 wraps
 * @returns the same wraps in the current shape
 */
export function fromLegacyWraps(legacy: z.infer<typeof LegacyWrappedKeys>): WrappedKeys {
  return {
    ...(legacy.password ? { password: legacy.password } : {}),
    ...(legacy.recovery ? { legacyRecovery: legacy.recovery } : {}),
  };
}

/**
 * A new random data key (extractable only so that it can be wrapped; it never leaves memory
 * in clear).
 * @returns AES-256-GCM key
 */
export function generateDataKey(): Promise<CryptoKey> {
  return subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
}

async function deriveKek(kind: WrapKind, secret: Uint8Array, salt: Uint8Array): Promise<CryptoKey> {
  const ikm = await subtle().importKey('raw', secret as Uint8Array<ArrayBuffer>, 'HKDF', false, [
    'deriveKey',
  ]);
  return subtle().deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: salt as Uint8Array<ArrayBuffer>,
      info: utf8(`cipherchat/backup/v1/kek/${kind}`),
    },
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
 * Wraps the data key directly under a password- or recovery-derived key (the password wrap; a
 * 'recovery' wrap made this way is the format-1 `legacyRecovery`).
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
): Promise<Wrap> {
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

async function unwrapSymmetric(
  wrap: Wrap,
  kind: WrapKind,
  secret: Uint8Array,
  userId: string,
): Promise<CryptoKey> {
  const kek = await deriveKek(kind, secret, fromBase64(wrap.salt));
  return subtle().unwrapKey(
    'raw',
    fromBase64(wrap.wrapped),
    kek,
    { name: 'AES-GCM', iv: fromBase64(wrap.iv), additionalData: wrapAad(kind, userId) },
    { name: 'AES-GCM', length: 256 },
    true,
    ['encrypt', 'decrypt'],
  );
}

const lockAad = (userId: string) => utf8(`cipherchat/backup/v2/recovery-lock/${userId}`);

/**
 * A new recovery lock for a recovery key (a fresh ECDH key pair; the private key sealed under
 * the recovery key).
 * @param recoveryKey the printed recovery key
 * @param userId the account (associated data)
 * @returns the lock
 */
export async function createRecoveryLock(
  recoveryKey: string,
  userId: string,
): Promise<RecoveryLock> {
  const pair = await subtle().generateKey(ECDH, true, ['deriveBits']);
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const kek = await deriveKek('recovery', parseRecoveryKey(recoveryKey), salt);
  const wrappedPrivateKey = await subtle().wrapKey('pkcs8', pair.privateKey, kek, {
    name: 'AES-GCM',
    iv,
    additionalData: lockAad(userId),
  });
  const publicKey = await subtle().exportKey('raw', pair.publicKey);
  return {
    publicKey: toBase64(publicKey),
    salt: toBase64(salt),
    iv: toBase64(iv),
    wrappedPrivateKey: toBase64(wrappedPrivateKey),
  };
}

async function recoveryKek(
  privateKey: CryptoKey,
  publicKey: Uint8Array,
  ephemeral: Uint8Array,
  lock: Uint8Array,
  userId: string,
) {
  const peer = await subtle().importKey(
    'raw',
    publicKey as Uint8Array<ArrayBuffer>,
    ECDH,
    false,
    [],
  );
  const shared = await subtle().deriveBits({ name: 'ECDH', public: peer }, privateKey, 256);
  const ikm = await subtle().importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: concatBytes(ephemeral, lock),
      info: utf8(`cipherchat/backup/v2/wrap/recovery/${userId}`),
    },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['wrapKey', 'unwrapKey'],
  );
}

/**
 * Wraps the data key for a recovery lock's public key (needs no recovery key).
 * @param dataKey the data key
 * @param lock the account's recovery lock
 * @param userId the account
 * @returns the recovery wrap
 */
export async function wrapForRecovery(
  dataKey: CryptoKey,
  lock: RecoveryLock,
  userId: string,
): Promise<RecoveryWrap> {
  const eph = await subtle().generateKey(ECDH, true, ['deriveBits']);
  const ephemeral = new Uint8Array(await subtle().exportKey('raw', eph.publicKey));
  const lockPub = fromBase64(lock.publicKey);
  const kek = await recoveryKek(eph.privateKey, lockPub, ephemeral, lockPub, userId);
  const iv = randomBytes(12);
  const wrapped = await subtle().wrapKey('raw', dataKey, kek, { name: 'AES-GCM', iv });
  return { ephemeralPublicKey: toBase64(ephemeral), iv: toBase64(iv), wrapped: toBase64(wrapped) };
}

async function unwrapRecovery(
  wraps: WrappedKeys,
  secret: Uint8Array,
  userId: string,
): Promise<CryptoKey> {
  const { recovery, recoveryLock: lock } = wraps;
  if (!recovery || !lock) throw new BackupUnlockError('backup has no recovery wrap');
  const kek = await deriveKek('recovery', secret, fromBase64(lock.salt));
  const privateKey = await subtle().unwrapKey(
    'pkcs8',
    fromBase64(lock.wrappedPrivateKey),
    kek,
    { name: 'AES-GCM', iv: fromBase64(lock.iv), additionalData: lockAad(userId) },
    ECDH,
    false,
    ['deriveBits'],
  );
  const ephemeral = fromBase64(recovery.ephemeralPublicKey);
  const wrapKek = await recoveryKek(
    privateKey,
    ephemeral,
    ephemeral,
    fromBase64(lock.publicKey),
    userId,
  );
  return subtle().unwrapKey(
    'raw',
    fromBase64(recovery.wrapped),
    wrapKek,
    { name: 'AES-GCM', iv: fromBase64(recovery.iv) },
    { name: 'AES-GCM', length: 256 },
    true,
    ['encrypt', 'decrypt'],
  );
}

/**
 * Unwraps the data key from a set of wraps with a secret. The caller must still open the
 * backup with it: only that checks the wraps were the ones sealed with the content.
 * @param wraps the wraps (from a parsed blob)
 * @param userId the account
 * @param kind which secret
 * @param secret export key or recovery key text
 * @returns the data key
 * @throws {BackupUnlockError} wrong secret, missing wrap or tampered wrap
 */
export async function unwrapDataKey(
  wraps: WrappedKeys,
  userId: string,
  kind: WrapKind,
  secret: string,
): Promise<CryptoKey> {
  let bytes: Uint8Array;
  try {
    bytes = secretBytes(kind, secret);
  } catch (err) {
    throw new BackupUnlockError(`invalid ${kind} secret`, { cause: err });
  }
  const direct =
    kind === 'password' ? wraps.password : wraps.recoveryLock ? undefined : wraps.legacyRecovery;
  if (kind === 'password' && !direct) throw new BackupUnlockError('backup has no password wrap');
  try {
    if (direct) return await unwrapSymmetric(direct, kind, bytes, userId);
    return await unwrapRecovery(wraps, bytes, userId);
  } catch (err) {
    if (err instanceof BackupUnlockError) throw err;
    throw new BackupUnlockError(`the ${kind} secret does not open this backup`, { cause: err });
  }
}

/**
 * A new data key and its wraps: under the export key, and for the recovery key (a new lock made
 * from `recoveryKey`, or the existing `lock` wrapped to without knowing the key).
 * @param userId the account
 * @param exportKey OPAQUE export key of the current password
 * @param recovery the recovery key, or the current lock
 * @returns the data key and wraps
 */
export async function newKeyWraps(
  userId: string,
  exportKey: string,
  recovery: { recoveryKey: string } | { lock: RecoveryLock },
): Promise<{ dataKey: CryptoKey; wrappedKeys: WrappedKeys }> {
  const dataKey = await generateDataKey();
  const lock =
    'lock' in recovery ? recovery.lock : await createRecoveryLock(recovery.recoveryKey, userId);
  return {
    dataKey,
    wrappedKeys: {
      password: await wrapDataKey(dataKey, 'password', exportKey, userId),
      recovery: await wrapForRecovery(dataKey, lock, userId),
      recoveryLock: lock,
    },
  };
}

/**
 * SHA-256 over the wraps in a fixed field order (bound into the backup's additional data, so a
 * swapped, dropped or added wrap makes the whole backup fail to open).
 * @param wraps the wraps
 * @returns the digest
 */
export async function wrapsDigest(wraps: WrappedKeys): Promise<Uint8Array> {
  const p = wraps.password;
  const r = wraps.recovery;
  const l = wraps.recoveryLock;
  const g = wraps.legacyRecovery;
  const canonical = JSON.stringify([
    p ? [p.salt, p.iv, p.wrapped] : null,
    r ? [r.ephemeralPublicKey, r.iv, r.wrapped] : null,
    l ? [l.publicKey, l.salt, l.iv, l.wrappedPrivateKey] : null,
    g ? [g.salt, g.iv, g.wrapped] : null,
  ]);
  return new Uint8Array(await subtle().digest('SHA-256', utf8(canonical)));
}
