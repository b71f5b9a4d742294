import { Router, type Request } from 'express';
import { z } from 'zod';
import { CreateDeviceBody, DEVICE_SECRET_HEADER, DeviceId, UploadKeysBody } from '@cipherchat/contracts';
import { AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError, authUserId, validate, withTransaction } from '@cipherchat/service-kit';
import type { ChatContext } from '../context.js';
import { deviceSecretMatches, newDeviceSecret } from '../domain/device-secret.js';
import { decodePublicKey, decodeSignature, verifySignedPreKey } from '../domain/keys.js';
import {
  countPreKeys,
  deleteDevice,
  deviceSecretDigest,
  insertDevice,
  listDevices,
  listKeyedDeviceIds,
  storeDeviceKeys,
  takeBundles,
} from '../store/device.repository.js';
import { contactsOf } from '../store/conversation.repository.js';
import { consumeOrThrow } from '../rate-limits.js';

const DeviceParams = z.strictObject({ deviceId: DeviceId });
const UserParams = z.strictObject({ userId: z.uuid() });

function publicKey(b64: string, path: string): Buffer {
  const key = decodePublicKey(b64);
  if (!key) throw new ValidationError(`${path} must be a 33-byte Signal public key starting with 0x05`, [{ path, message: 'must be 33 bytes starting with 0x05' }]);
  return key;
}

/**
 * Authenticates a request that acts as one specific device of the caller: the access token
 * only says which user is calling (any of their sessions), the `X-Device-Secret` header proves
 * which device. Without it one session could upload keys for, or read the state of, another
 * device of the same user.
 * @param ctx shared service context
 * @param req the request (header `X-Device-Secret`)
 * @param userId the caller, from the token
 * @param deviceId the device the route acts as
 * @throws {ForbiddenError} when the user has no such device
 * @throws {AppError} 403 `invalid_device_credentials` when the secret is missing or wrong
 */
async function requireDeviceSecret(ctx: ChatContext, req: Request, userId: string, deviceId: number): Promise<void> {
  const digest = await deviceSecretDigest(ctx.ds.manager, userId, deviceId);
  if (digest === null) throw new ForbiddenError('not one of your devices');
  if (!deviceSecretMatches(digest, req.get(DEVICE_SECRET_HEADER))) {
    throw new AppError(403, 'invalid_device_credentials', `the ${DEVICE_SECRET_HEADER} header does not prove this device`);
  }
}

/**
 * Devices and Signal keys: register/remove my devices, upload keys (signed prekey verified
 * with libsignal), count my prekeys, fetch another user's bundles (consuming prekeys).
 * Registration hands out the device secret; the routes that act as one device (its keys)
 * require it in `X-Device-Secret`, removing a device needs only the user's token.
 * @param ctx shared service context
 * @returns the router (mounted under `/api/chat`)
 */
export function devicesRouter(ctx: ChatContext): Router {
  const r = Router();

  r.post('/devices', async (req, res) => {
    const userId = authUserId(req);
    const body = validate(CreateDeviceBody, req.body);
    // The secret is returned this once; only its digest is stored (a database leak gives no device credentials).
    const { secret, digest } = newDeviceSecret();
    const deviceId = await withTransaction(ctx.ds, (m) => insertDevice(m, userId, body.name, digest, ctx.config.MAX_DEVICES));
    if (deviceId === null) throw new ConflictError(`at most ${ctx.config.MAX_DEVICES} devices per account`, 'too_many_devices', { max: ctx.config.MAX_DEVICES });
    ctx.logger.info({ userId, deviceId }, 'device registered');
    res.status(201).json({ deviceId, deviceSecret: secret });
  });

  r.get('/devices', async (req, res) => {
    const devices = await listDevices(ctx.ds.manager, authUserId(req));
    res.json({ devices: devices.map((d) => ({ ...d, createdAt: d.createdAt.toISOString() })) });
  });

  r.delete('/devices/:deviceId', async (req, res) => {
    const userId = authUserId(req);
    const { deviceId } = validate(DeviceParams, req.params, 'params');
    const removed = await withTransaction(ctx.ds, (m) => deleteDevice(m, userId, deviceId));
    if (!removed) throw new NotFoundError('device');
    ctx.disconnectDevice(userId, deviceId);
    ctx.logger.info({ userId, deviceId }, 'device removed');
    res.status(204).end();
  });

  r.put('/devices/:deviceId/keys', async (req, res) => {
    const userId = authUserId(req);
    const { deviceId } = validate(DeviceParams, req.params, 'params');
    await requireDeviceSecret(ctx, req, userId, deviceId);
    const body = validate(UploadKeysBody, req.body);
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
    const result = await withTransaction(ctx.ds, (m) =>
      storeDeviceKeys(
        m,
        userId,
        deviceId,
        { registrationId: body.registrationId, identityKey, signedPreKey: { keyId: body.signedPreKey.keyId, publicKey: spk, signature: sig }, preKeys },
        ctx.config.MAX_PREKEYS_PER_DEVICE,
      ).then((out) => {
        // roll the whole upload back when it would exceed the per-device prekey cap
        if (out === 'too_many_prekeys') {
          throw new AppError(422, 'validation_error', `a device may hold at most ${ctx.config.MAX_PREKEYS_PER_DEVICE} one-time prekeys`);
        }
        return out;
      }),
    );
    if (result === 'not_found') throw new ForbiddenError('not one of your devices');
    if (result.identityChanged) {
      ctx.logger.info({ userId, deviceId }, 'identity key changed');
      const contacts = await contactsOf(ctx.ds.manager, userId);
      ctx.notifyUsers([...contacts, userId], 'identity:changed', { userId });
    }
    res.json({ count: await countPreKeys(ctx.ds.manager, userId, deviceId), identityChanged: result.identityChanged });
  });

  r.get('/devices/:deviceId/keys/count', async (req, res) => {
    const userId = authUserId(req);
    const { deviceId } = validate(DeviceParams, req.params, 'params');
    await requireDeviceSecret(ctx, req, userId, deviceId);
    res.json({ count: await countPreKeys(ctx.ds.manager, userId, deviceId) });
  });

  r.get('/users/:userId/keys', async (req, res) => {
    const requester = authUserId(req);
    const { userId } = validate(UserParams, req.params, 'params');
    await consumeOrThrow(ctx.limits.prekeyRequester, requester);
    await consumeOrThrow(ctx.limits.prekeyTarget, userId);
    const bundle = await takeBundles(ctx.ds.manager, userId);
    if (!bundle.identityKey || bundle.devices.length === 0) throw new NotFoundError('keys');
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
    authUserId(req);
    const { userId } = validate(UserParams, req.params, 'params');
    res.json({ deviceIds: await listKeyedDeviceIds(ctx.ds.manager, userId) });
  });

  return r;
}
