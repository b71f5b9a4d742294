import { Router, type Request } from 'express';
import { z } from 'zod';
import { CreateDeviceBody, DEVICE_SECRET_HEADER, DeviceId, UploadKeysBody } from '@cipherchat/contracts';
import { AppError, ForbiddenError, authUserId, validate } from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import {
  countMyPreKeys,
  listKeyedDevices,
  requireSharedConversation,
  listMyDevices,
  proveDevice,
  registerDevice,
  removeDevice,
  takeKeyBundles,
  uploadDeviceKeys,
} from '../domain/devices.js';
import { consumeOrThrow, tryConsume, type RateLimits } from '../rate-limits.js';
import { requireAnyOwnDevice } from './device-proof.js';

const DeviceParams = z.strictObject({ deviceId: DeviceId });
const UserParams = z.strictObject({ userId: z.uuid() });

/**
 * Authenticates a request that acts as one specific device of the caller: the access token
 * only says which user is calling (any of their sessions), the `X-Device-Secret` header proves
 * which device. Without it one session could upload keys for, or read the state of, another
 * device of the same user.
 * @param deps use-case dependencies
 * @param req the request (header `X-Device-Secret`)
 * @param userId the caller, from the token
 * @param deviceId the device the route acts as
 * @throws {ForbiddenError} when the user has no such device
 * @throws {AppError} 403 `invalid_device_credentials` when the secret is missing or wrong
 */
async function requireDeviceSecret(deps: ChatDeps, req: Request, userId: string, deviceId: number): Promise<void> {
  const proof = await proveDevice(deps, userId, deviceId, req.get(DEVICE_SECRET_HEADER));
  if (proof === 'unknown_device') throw new ForbiddenError('not one of your devices');
  if (proof === 'invalid_device_credentials') {
    throw new AppError(403, 'invalid_device_credentials', `the ${DEVICE_SECRET_HEADER} header does not prove this device`);
  }
}

/**
 * Devices and Signal keys: register/remove my devices, upload keys (signed prekey verified
 * with libsignal), count my prekeys, fetch the bundles of someone I share a conversation with
 * (consuming prekeys).
 * Registration needs a fresh login (`auth_time`) and hands out the device secret; the routes
 * that act as one device (its keys) require it in `X-Device-Secret`; removing a device needs
 * proof of any of the account's devices (`X-Device-Id` + `X-Device-Secret`), not just a token.
 * @param deps use-case dependencies
 * @param limits the bundle-fetch limits (per requester, per pair; one-time prekey budgets; the `prekeys:low` throttle)
 * @returns the router (mounted under `/api/chat`)
 */
export function devicesRouter(deps: ChatDeps, limits: Pick<RateLimits, 'prekeyRequester' | 'prekeyTarget' | 'prekeyPair' | 'prekeyPairOneTime' | 'prekeyLow'>): Router {
  const r = Router();

  r.post('/devices', async (req, res) => {
    const userId = authUserId(req);
    // a legacy `name` is accepted and dropped: the server stores no device names
    validate(CreateDeviceBody, req.body ?? {});
    res.status(201).json(await registerDevice(deps, userId, req.auth?.authTime));
  });

  r.get('/devices', async (req, res) => {
    const devices = await listMyDevices(deps, authUserId(req));
    // `name` stays in the answer for outside clients, always empty: names travel end to end
    res.json({
      devices: devices.map((d) => ({
        deviceId: d.deviceId,
        name: '',
        hasKeys: d.hasKeys,
        createdAt: d.createdAt.toISOString(),
        lastActiveAt: d.lastActiveAt?.toISOString() ?? null,
      })),
    });
  });

  r.delete('/devices/:deviceId', async (req, res) => {
    const userId = authUserId(req);
    const { deviceId } = validate(DeviceParams, req.params, 'params');
    await requireAnyOwnDevice(deps, req, userId);
    await removeDevice(deps, userId, deviceId);
    res.status(204).end();
  });

  r.put('/devices/:deviceId/keys', async (req, res) => {
    const userId = authUserId(req);
    const { deviceId } = validate(DeviceParams, req.params, 'params');
    await requireDeviceSecret(deps, req, userId, deviceId);
    const body = validate(UploadKeysBody, req.body);
    res.json(await uploadDeviceKeys(deps, userId, deviceId, body));
  });

  r.get('/devices/:deviceId/keys/count', async (req, res) => {
    const userId = authUserId(req);
    const { deviceId } = validate(DeviceParams, req.params, 'params');
    await requireDeviceSecret(deps, req, userId, deviceId);
    res.json({ count: await countMyPreKeys(deps, userId, deviceId) });
  });

  r.get('/users/:userId/keys', async (req, res) => {
    const requester = authUserId(req);
    const { userId } = validate(UserParams, req.params, 'params');
    await consumeOrThrow(limits.prekeyRequester, requester);
    // Only for myself and people I share a conversation with (a stranger opens one first): else
    // 404 like an unknown user, before any per-pair or per-target budget is spent.
    await requireSharedConversation(deps, requester, userId);
    await consumeOrThrow(limits.prekeyPair, `${requester}:${userId}`);
    // One-time prekeys only within the pair's hourly and the target's per-minute budgets:
    // beyond them the bundle carries the signed prekey alone, so draining is bounded and
    // never refuses anyone a session.
    const consume = (await tryConsume(limits.prekeyPairOneTime, `${requester}:${userId}`)) && (await tryConsume(limits.prekeyTarget, userId));
    const bundle = await takeKeyBundles(deps, userId, consume, (deviceId) => tryConsume(limits.prekeyLow, `${userId}:${deviceId}`));
    res.json({
      identityKey: bundle.identityKey.toString('base64'),
      devices: bundle.devices.map((d) => ({
        deviceId: d.deviceId,
        registrationId: d.registrationId,
        signedPreKey: { keyId: d.signedPreKeyId, publicKey: d.signedPreKey.toString('base64'), signature: d.signature.toString('base64') },
        ...(d.preKey && d.preKeyId !== null ? { preKey: { keyId: d.preKeyId, publicKey: d.preKey.toString('base64') } } : {}),
      })),
    });
  });

  r.get('/users/:userId/devices', async (req, res) => {
    const me = authUserId(req);
    const { userId } = validate(UserParams, req.params, 'params');
    res.json({ deviceIds: await listKeyedDevices(deps, me, userId) });
  });

  return r;
}
