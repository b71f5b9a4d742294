import type { UploadKeysBody } from '@cipherchat/contracts';
import { AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '@cipherchat/service-kit/errors';
import type { ChatDeps } from './deps.js';
import { deviceSecretMatches, newDeviceSecret } from './device-secret.js';
import { decodePublicKey, decodeSignature, verifySignedPreKey } from './keys.js';
import type { BundleRow, DeviceRow } from './ports.js';

/** A validated key upload (defaults applied). */
export type KeyUpload = ReturnType<(typeof UploadKeysBody)['parse']>;

/**
 * Registers a device of the caller and hands out its secret (returned this once; only its
 * digest is stored, so a database leak gives no device credentials). Only right after a login:
 * the session's login time (`auth_time`, unchanged by refreshes) must be at most
 * `FRESH_LOGIN_MAX_AGE_S` ago, so a stolen access token, or a session refreshed for hours,
 * cannot add a device that would then receive every message. No name is stored: device names
 * travel end to end between the account's devices.
 * @param deps config, device store, log
 * @param userId the caller
 * @param authTime the access token's `auth_time` (epoch seconds), undefined when it has none
 * @param now the current time in epoch seconds (tests pass it)
 * @returns the new device id and its secret
 * @throws {AppError} 401 `fresh_login_required` when the login is missing or too old
 * @throws {ConflictError} `too_many_devices` with `{max}`
 */
export async function registerDevice(
  deps: ChatDeps,
  userId: string,
  authTime: number | undefined,
  now = Math.floor(Date.now() / 1000),
): Promise<{ deviceId: number; deviceSecret: string }> {
  const maxAge = deps.config.FRESH_LOGIN_MAX_AGE_S;
  if (authTime === undefined || now - authTime > maxAge) {
    throw new AppError(401, 'fresh_login_required', `registering a device needs a login at most ${maxAge} s old: log in again`, { maxAgeSeconds: maxAge });
  }
  const max = deps.config.MAX_DEVICES;
  const { secret, digest } = newDeviceSecret();
  const deviceId = await deps.transact((tx) => deps.devices.insertDevice(tx, userId, digest, max));
  if (deviceId === null) throw new ConflictError(`at most ${max} devices per account`, 'too_many_devices', { max });
  deps.log.info({ userId, deviceId }, 'device registered');
  return { deviceId, deviceSecret: secret };
}

/**
 * @param deps device store
 * @param userId the caller
 * @returns the caller's devices
 */
export function listMyDevices(deps: ChatDeps, userId: string): Promise<DeviceRow[]> {
  return deps.devices.listDevices(deps.db, userId);
}

/**
 * Removes a device of the caller (its keys and mailbox go with it) and ends its sockets.
 * @param deps device store, notifier, log
 * @param userId the caller
 * @param deviceId one of the caller's devices
 * @throws {NotFoundError} when the caller has no such device
 */
export async function removeDevice(deps: ChatDeps, userId: string, deviceId: number): Promise<void> {
  const removed = await deps.transact((tx) => deps.devices.deleteDevice(tx, userId, deviceId));
  if (!removed) throw new NotFoundError('device');
  deps.notifier.disconnectDevice(userId, deviceId);
  deps.log.info({ userId, deviceId }, 'device removed');
}

/**
 * Whether a presented device secret proves one device of the user: the access token only says
 * which user is calling (any of their sessions), the secret says which device.
 * @param deps device store
 * @param userId the user, from the token
 * @param deviceId the device claimed
 * @param secret the secret presented (missing counts as wrong)
 * A proven device counts as active this hour (`last_active_at`, written at most once an hour).
 * @returns `ok`, `unknown_device` (no such device of the user) or `invalid_device_credentials`
 */
export async function proveDevice(
  deps: ChatDeps,
  userId: string,
  deviceId: number,
  secret: string | undefined,
): Promise<'ok' | 'unknown_device' | 'invalid_device_credentials'> {
  const digest = await deps.devices.deviceSecretDigest(deps.db, userId, deviceId);
  if (digest === null) return 'unknown_device';
  if (!deviceSecretMatches(digest, secret)) return 'invalid_device_credentials';
  // "Last active" for the owner's device list: at most one write per device and hour.
  await deps.devices.touchDevice(deps.db, userId, deviceId).catch((err: unknown) => deps.log.warn({ err, userId, deviceId }, 'last active not recorded'));
  return 'ok';
}

function publicKey(b64: string, path: string): Buffer {
  const key = decodePublicKey(b64);
  if (!key) throw new ValidationError(`${path} must be a 33-byte Signal public key starting with 0x05`, [{ path, message: 'must be 33 bytes starting with 0x05' }]);
  return key;
}

/**
 * Stores a device's keys: identity key, signed prekey (its signature verified with libsignal)
 * and one-time prekeys, all or nothing. A changed identity key resets the user's other devices'
 * keys and tells the user and everyone sharing a conversation with them (`identity:changed`),
 * except those the user blocked.
 * @param deps config, device and conversation stores, notifier, log
 * @param userId the caller
 * @param deviceId the device (already proven by its secret)
 * @param body the validated upload
 * @returns one-time prekeys now held and whether the identity key changed
 * @throws {ValidationError} malformed keys, a key id twice
 * @throws {AppError} 422 `invalid_signature`; 422 `validation_error` over the prekey cap
 * @throws {ForbiddenError} when the device is not the caller's
 */
export async function uploadDeviceKeys(
  deps: ChatDeps,
  userId: string,
  deviceId: number,
  body: KeyUpload,
): Promise<{ count: number; identityChanged: boolean }> {
  const identityKey = publicKey(body.identityKey, 'identityKey');
  const spk = publicKey(body.signedPreKey.publicKey, 'signedPreKey.publicKey');
  const sig = decodeSignature(body.signedPreKey.signature);
  if (!sig) throw new ValidationError('signedPreKey.signature must be 64 bytes', [{ path: 'signedPreKey.signature', message: 'must be 64 bytes' }]);
  const preKeys = body.preKeys.map((k, i) => ({ keyId: k.keyId, publicKey: publicKey(k.publicKey, `preKeys.${i}.publicKey`) }));
  if (new Set(preKeys.map((k) => k.keyId)).size !== preKeys.length) {
    throw new AppError(400, 'validation_error', 'preKeys contains a key id twice');
  }
  if (!verifySignedPreKey(identityKey, spk, sig)) {
    throw new AppError(422, 'invalid_signature', 'the signed prekey signature does not verify with the identity key');
  }
  const maxPreKeys = deps.config.MAX_PREKEYS_PER_DEVICE;
  const result = await deps.transact(async (tx) => {
    const out = await deps.devices.storeDeviceKeys(
      tx,
      userId,
      deviceId,
      { registrationId: body.registrationId, identityKey, signedPreKey: { keyId: body.signedPreKey.keyId, publicKey: spk, signature: sig }, preKeys },
      maxPreKeys,
    );
    // roll the whole upload back when it would exceed the per-device prekey cap
    if (out === 'too_many_prekeys') throw new AppError(422, 'validation_error', `a device may hold at most ${maxPreKeys} one-time prekeys`);
    return out;
  });
  if (result === 'not_found') throw new ForbiddenError('not one of your devices');
  if (result.identityChanged) {
    deps.log.info({ userId, deviceId }, 'identity key changed');
    // not to people the user blocked: they learn nothing of the user, not even a reinstall
    const [contacts, blocked] = await Promise.all([deps.conversations.contactsOf(deps.db, userId), deps.safety.listBlocks(deps.db, userId)]);
    const hidden = new Set(blocked);
    deps.notifier.notifyUsers([...contacts.filter((u) => !hidden.has(u)), userId], 'identity:changed', { userId });
  }
  return { count: await deps.devices.countPreKeys(deps.db, userId, deviceId), identityChanged: result.identityChanged };
}

/**
 * @param deps device store
 * @param userId the caller
 * @param deviceId the device (already proven by its secret)
 * @returns one-time prekeys left
 */
export function countMyPreKeys(deps: ChatDeps, userId: string, deviceId: number): Promise<number> {
  return deps.devices.countPreKeys(deps.db, userId, deviceId);
}

/**
 * Another user's key bundles, one per keyed device, each consuming a one-time prekey when
 * `consume` is true (otherwise the signed prekey only: a last-resort session). Devices left
 * below `PREKEY_LOW_THRESHOLD` one-time prekeys are sent `prekeys:low` so they refill at once,
 * when `mayWarn` allows (the caller throttles it to once a minute per device).
 * @param deps device store, notifier, config
 * @param userId whose bundles
 * @param consume whether to hand out one-time prekeys
 * @param mayWarn whether this device may be warned now
 * @returns the identity key and the bundles
 * @throws {NotFoundError} `keys` when the user has no keyed device
 */
export async function takeKeyBundles(
  deps: ChatDeps,
  userId: string,
  consume = true,
  mayWarn: (deviceId: number) => Promise<boolean> = async () => true,
): Promise<{ identityKey: Buffer; devices: BundleRow[] }> {
  const bundle = await deps.devices.takeBundles(deps.db, userId, consume);
  if (!bundle.identityKey || bundle.devices.length === 0) throw new NotFoundError('keys');
  for (const d of bundle.devices) {
    if (d.preKeyId === null || d.preKeysLeft >= deps.config.PREKEY_LOW_THRESHOLD) continue;
    void mayWarn(d.deviceId).then((ok) => {
      if (ok) deps.notifier.notifyDevice(userId, d.deviceId, 'prekeys:low', { count: d.preKeysLeft });
    });
  }
  return { identityKey: bundle.identityKey, devices: bundle.devices };
}

/**
 * Who may see a user's devices (their list, or their key bundles, one per device): the user
 * themselves and anyone who shares a conversation with them (in any state). How many devices
 * someone has is nobody else's business; a stranger who means to write opens the conversation
 * first (the SDK always does), which the other side then sees as a message request.
 * @param deps safety store
 * @param me the caller
 * @param userId the user asked about
 * @throws {NotFoundError} `user` when the caller shares no conversation with them (like an unknown id)
 */
export async function requireSharedConversation(deps: ChatDeps, me: string, userId: string): Promise<void> {
  if (userId !== me && !(await deps.safety.shareConversation(deps.db, me, userId))) throw new NotFoundError('user');
}

/**
 * A user's keyed devices, only for the user themselves or someone who shares a conversation
 * with them ({@link requireSharedConversation}).
 * @param deps device store, safety store
 * @param me the caller
 * @param userId the user asked about
 * @returns ids of the user's keyed devices (those a message must address)
 * @throws {NotFoundError} `user` when the caller shares no conversation with them
 */
export async function listKeyedDevices(deps: ChatDeps, me: string, userId: string): Promise<number[]> {
  await requireSharedConversation(deps, me, userId);
  return deps.devices.listKeyedDeviceIds(deps.db, userId);
}
