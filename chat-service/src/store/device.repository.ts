import type { EntityManager } from 'typeorm';
import type { BundleRow, DeviceKeys, DeviceRow, DeviceStore } from '../domain/ports.js';
import { q } from './sql.js';

export type { BundleRow, DeviceKeys, DeviceRow };

/**
 * Registers a device: takes the next never-used device id of the user (ids are not reused, so
 * a peer's old session for a removed device can never be mistaken for a new device).
 * Must run in a transaction (locks the account row).
 * @param m transaction manager
 * @param userId owner
 * @param secretDigest SHA-256 of the device's secret (the secret itself is never stored)
 * @param maxDevices limit of live devices
 * @returns the new device id, or null when the user already has `maxDevices`
 */
export async function insertDevice(
  m: EntityManager,
  userId: string,
  secretDigest: Buffer,
  maxDevices: number,
): Promise<number | null> {
  await q(m, `INSERT INTO chat.accounts (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING`, [userId]);
  const [acc] = (await q(m, 
    `SELECT next_device_id, (SELECT count(*)::int FROM chat.devices WHERE user_id = $1) AS n
       FROM chat.accounts WHERE user_id = $1 FOR UPDATE`,
    [userId],
  )) as { next_device_id: number; n: number }[];
  if (!acc || acc.n >= maxDevices) return null;
  // no name: device names travel end to end between the account's devices (the column stays empty)
  await q(m, `INSERT INTO chat.devices (user_id, device_id, secret_digest, last_active_at) VALUES ($1, $2, $3, date_trunc('hour', now()))`, [
    userId,
    acc.next_device_id,
    secretDigest,
  ]);
  await q(m, `UPDATE chat.accounts SET next_device_id = next_device_id + 1, updated_at = now() WHERE user_id = $1`, [userId]);
  return acc.next_device_id;
}

/**
 * Deletes a device with its prekeys (cascade) and its mailbox.
 * @param m manager
 * @param userId owner
 * @param deviceId device
 * @returns whether it existed
 */
export async function deleteDevice(m: EntityManager, userId: string, deviceId: number): Promise<boolean> {
  const rows = (await q(m, `DELETE FROM chat.devices WHERE user_id = $1 AND device_id = $2 RETURNING device_id`, [userId, deviceId])) as unknown[];
  if (rows.length === 0) return false;
  await q(m, `DELETE FROM chat.mailbox WHERE recipient_user = $1 AND recipient_device = $2`, [userId, deviceId]);
  await q(m, `DELETE FROM chat.mailbox_held WHERE recipient_user = $1 AND recipient_device = $2`, [userId, deviceId]);
  await q(m, `DELETE FROM chat.mailbox_held_from WHERE recipient_user = $1 AND recipient_device = $2`, [userId, deviceId]);
  return true;
}

/**
 * @param m manager
 * @param userId owner
 * @param deviceId device
 * @returns whether the device is registered
 */
export async function deviceExists(m: EntityManager, userId: string, deviceId: number): Promise<boolean> {
  const rows = (await q(m, `SELECT 1 FROM chat.devices WHERE user_id = $1 AND device_id = $2`, [userId, deviceId])) as unknown[];
  return rows.length > 0;
}

/**
 * The stored digest of a device's secret, to authenticate a request that acts as that device.
 * @param m manager
 * @param userId owner (from the access token)
 * @param deviceId the device the caller claims to be
 * @returns the SHA-256 digest, or null when the user has no such device
 */
export async function deviceSecretDigest(m: EntityManager, userId: string, deviceId: number): Promise<Buffer | null> {
  const rows = (await q(m, `SELECT secret_digest FROM chat.devices WHERE user_id = $1 AND device_id = $2`, [userId, deviceId])) as {
    secret_digest: Buffer;
  }[];
  return rows[0]?.secret_digest ?? null;
}

/**
 * @param m manager
 * @param userId owner
 * @returns the caller's devices
 */
export async function listDevices(m: EntityManager, userId: string): Promise<DeviceRow[]> {
  const rows = (await q(m, 
    `SELECT device_id, signed_prekey IS NOT NULL AS has_keys, created_at, last_active_at FROM chat.devices WHERE user_id = $1 ORDER BY device_id`,
    [userId],
  )) as { device_id: number; has_keys: boolean; created_at: Date; last_active_at: Date | null }[];
  return rows.map((r) => ({ deviceId: r.device_id, hasKeys: r.has_keys, createdAt: r.created_at, lastActiveAt: r.last_active_at }));
}

/**
 * Records that a device was active this hour: `last_active_at` holds the start of the hour and
 * is written at most once per hour (a no-op otherwise), so it stays coarse and cheap.
 * @param m manager
 * @param userId owner
 * @param deviceId device
 */
export async function touchDevice(m: EntityManager, userId: string, deviceId: number): Promise<void> {
  await q(
    m,
    `UPDATE chat.devices SET last_active_at = date_trunc('hour', now())
      WHERE user_id = $1 AND device_id = $2 AND (last_active_at IS NULL OR last_active_at < date_trunc('hour', now()))`,
    [userId, deviceId],
  );
}

/**
 * Devices of a user that published keys (the only ones a message can be encrypted to).
 * @param m manager
 * @param userId user
 * @returns device ids in order
 */
export async function listKeyedDeviceIds(m: EntityManager, userId: string): Promise<number[]> {
  const rows = (await q(m, 
    `SELECT device_id FROM chat.devices WHERE user_id = $1 AND signed_prekey IS NOT NULL ORDER BY device_id`,
    [userId],
  )) as { device_id: number }[];
  return rows.map((r) => r.device_id);
}

/**
 * Stores the keys of one device. The identity key belongs to the account: when it differs
 * from the stored one this is an identity change, recorded in `identity_changes`, and the
 * other devices' signed and one-time prekeys are dropped (they were signed by the old
 * identity, so no peer could verify them any more; those devices re-upload).
 * Must run in a transaction.
 * @param m transaction manager
 * @param userId owner (the caller)
 * @param deviceId one of the caller's devices
 * @param keys decoded and verified keys
 * @param maxPreKeys most one-time prekeys stored per device
 * @returns `not_found` when the device is not the caller's, `too_many_prekeys`, or whether the identity changed
 */
export async function storeDeviceKeys(
  m: EntityManager,
  userId: string,
  deviceId: number,
  keys: DeviceKeys,
  maxPreKeys: number,
): Promise<'not_found' | 'too_many_prekeys' | { identityChanged: boolean }> {
  const [acc] = (await q(m, `SELECT identity_key FROM chat.accounts WHERE user_id = $1 FOR UPDATE`, [userId])) as {
    identity_key: Buffer | null;
  }[];
  if (!acc || !(await deviceExists(m, userId, deviceId))) return 'not_found';
  const identityChanged = acc.identity_key !== null && !acc.identity_key.equals(keys.identityKey);
  if (identityChanged) {
    await q(m, 
      `INSERT INTO chat.identity_changes (user_id, old_identity_key, new_identity_key, device_id) VALUES ($1, $2, $3, $4)`,
      [userId, acc.identity_key, keys.identityKey, deviceId],
    );
    await q(m, 
      `UPDATE chat.devices SET registration_id = NULL, signed_prekey_id = NULL, signed_prekey = NULL, signed_prekey_signature = NULL
        WHERE user_id = $1 AND device_id <> $2`,
      [userId, deviceId],
    );
    await q(m, `DELETE FROM chat.one_time_prekeys WHERE user_id = $1 AND device_id <> $2`, [userId, deviceId]);
  }
  if (acc.identity_key === null || identityChanged) {
    await q(m, `UPDATE chat.accounts SET identity_key = $2, updated_at = now() WHERE user_id = $1`, [userId, keys.identityKey]);
  }
  await q(m, 
    `UPDATE chat.devices SET registration_id = $3, signed_prekey_id = $4, signed_prekey = $5, signed_prekey_signature = $6, keys_updated_at = now()
      WHERE user_id = $1 AND device_id = $2`,
    [userId, deviceId, keys.registrationId, keys.signedPreKey.keyId, keys.signedPreKey.publicKey, keys.signedPreKey.signature],
  );
  if (keys.preKeys.length > 0) {
    // One statement for the whole batch; a re-uploaded key id replaces the old public key.
    await q(m, 
      `INSERT INTO chat.one_time_prekeys (user_id, device_id, key_id, public_key)
       SELECT $1, $2, k, p FROM unnest($3::int[], $4::bytea[]) AS u(k, p)
       ON CONFLICT (user_id, device_id, key_id) DO UPDATE SET public_key = EXCLUDED.public_key`,
      [userId, deviceId, keys.preKeys.map((k) => k.keyId), keys.preKeys.map((k) => k.publicKey)],
    );
    const count = await countPreKeys(m, userId, deviceId);
    if (count > maxPreKeys) return 'too_many_prekeys';
  }
  return { identityChanged };
}

/**
 * @param m manager
 * @param userId owner
 * @param deviceId device
 * @returns one-time prekeys left
 */
export async function countPreKeys(m: EntityManager, userId: string, deviceId: number): Promise<number> {
  const [row] = (await q(m, `SELECT count(*)::int AS n FROM chat.one_time_prekeys WHERE user_id = $1 AND device_id = $2`, [userId, deviceId])) as {
    n: number;
  }[];
  return row?.n ?? 0;
}

/**
 * Returns the bundles of every keyed device of a user and, when `consume` is true, consumes
 * one one-time prekey per device, atomically: each device's lowest prekey is locked with
 * `FOR UPDATE SKIP LOCKED` (a concurrent fetch skips it and takes the next) and deleted in the
 * same statement, so two fetches never receive the same prekey. With `consume` false the
 * bundles carry the signed prekey only (a last-resort session, nothing taken).
 * @param m manager (a single statement: no explicit transaction needed)
 * @param userId target user
 * @param consume whether to hand out (and delete) one one-time prekey per device
 * @returns identity key (null when the user never uploaded keys) and device bundles, each with
 *   the one-time prekeys its device holds after this fetch
 */
export async function takeBundles(m: EntityManager, userId: string, consume = true): Promise<{ identityKey: Buffer | null; devices: BundleRow[] }> {
  const rows = (await q(m, 
    `WITH picked AS (
       SELECT d.device_id, d.registration_id, d.signed_prekey_id, d.signed_prekey, d.signed_prekey_signature,
              k.id AS pk_row, k.key_id AS pk_id, k.public_key AS pk,
              (SELECT count(*) FROM chat.one_time_prekeys c WHERE c.user_id = d.user_id AND c.device_id = d.device_id)::int AS pk_held
         FROM chat.devices d
         LEFT JOIN LATERAL (
           SELECT p.id, p.key_id, p.public_key FROM chat.one_time_prekeys p
            WHERE $2 AND p.user_id = d.user_id AND p.device_id = d.device_id
            ORDER BY p.key_id LIMIT 1
            FOR UPDATE SKIP LOCKED
         ) k ON true
        WHERE d.user_id = $1 AND d.signed_prekey IS NOT NULL
     ), consumed AS (
       DELETE FROM chat.one_time_prekeys WHERE id IN (SELECT pk_row FROM picked WHERE pk_row IS NOT NULL) RETURNING id
     )
     SELECT a.identity_key, picked.*, (SELECT count(*) FROM consumed) AS consumed
       FROM chat.accounts a LEFT JOIN picked ON true
      WHERE a.user_id = $1
      ORDER BY picked.device_id`,
    [userId, consume],
  )) as {
    identity_key: Buffer | null;
    device_id: number | null;
    registration_id: number;
    signed_prekey_id: number;
    signed_prekey: Buffer;
    signed_prekey_signature: Buffer;
    pk_id: number | null;
    pk: Buffer | null;
    pk_held: number;
  }[];
  const first = rows[0];
  if (!first) return { identityKey: null, devices: [] };
  return {
    identityKey: first.identity_key,
    devices: rows
      .filter((r) => r.device_id !== null)
      .map((r) => ({
        deviceId: r.device_id as number,
        registrationId: r.registration_id,
        signedPreKeyId: r.signed_prekey_id,
        signedPreKey: r.signed_prekey,
        signature: r.signed_prekey_signature,
        preKeyId: r.pk_id,
        preKey: r.pk,
        // counted in the statement's snapshot, before the delete
        preKeysLeft: Math.max(0, r.pk_held - (r.pk_id === null ? 0 : 1)),
      })),
  };
}

/** The device port of the use cases. */
export const deviceStore: DeviceStore = {
  insertDevice,
  deleteDevice,
  deviceSecretDigest,
  listDevices,
  touchDevice,
  listKeyedDeviceIds,
  storeDeviceKeys,
  countPreKeys,
  takeBundles,
};
