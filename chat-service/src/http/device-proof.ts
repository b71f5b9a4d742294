import type { Request } from 'express';
import { DEVICE_ID_HEADER, DEVICE_SECRET_HEADER, DeviceId } from '@cipherchat/contracts';
import { AppError } from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import { proveDevice } from '../domain/devices.js';

/**
 * Requires proof of one of the caller's devices (keyed or not) on a route that changes the
 * account rather than acting as one device: removing a device, replacing the key backup. An
 * access token alone is what a thief of one session has; the device secret lives only in the
 * device's own sealed store. The request names its device in `X-Device-Id` and proves it with
 * `X-Device-Secret`. Any of the account's devices will do (a device may remove another one).
 * @param deps use-case dependencies
 * @param req the request (headers `X-Device-Id`, `X-Device-Secret`)
 * @param userId the caller, from the token
 * @returns the proven device id
 * @throws {AppError} 403 `invalid_device_credentials` when a header is missing or malformed,
 *   the device is not the caller's, or the secret is wrong (one answer for all: nothing to probe)
 */
export async function requireAnyOwnDevice(deps: ChatDeps, req: Request, userId: string): Promise<number> {
  const refuse = () =>
    new AppError(403, 'invalid_device_credentials', `this needs ${DEVICE_ID_HEADER} and ${DEVICE_SECRET_HEADER} proving one of your devices`);
  const id = DeviceId.safeParse(req.get(DEVICE_ID_HEADER) ?? '');
  const secret = req.get(DEVICE_SECRET_HEADER);
  if (!id.success || !secret) throw refuse();
  if ((await proveDevice(deps, userId, id.data, secret)) !== 'ok') throw refuse();
  return id.data;
}

/**
 * {@link requireAnyOwnDevice}, and the device must be keyed (it uploaded its identity key and
 * signed prekey: `chat.devices.signed_prekey` is set). For routes that lower the caller's
 * guard (accept a request, unblock, privacy, open a conversation, add members): a thief with a
 * stolen fresh access token can register a device and so hold its secret, but a device that
 * never uploaded keys gets no messages, and it must not open those either. A device whose keys
 * were reset (the identity key changed on another device) is not keyed until it uploads again.
 * @param deps use-case dependencies
 * @param req the request (headers `X-Device-Id`, `X-Device-Secret`)
 * @param userId the caller, from the token
 * @returns the proven device id
 * @throws {AppError} 403 `invalid_device_credentials`, as {@link requireAnyOwnDevice} does, also
 *   when the device is not keyed (one answer for all)
 */
export async function requireKeyedOwnDevice(deps: ChatDeps, req: Request, userId: string): Promise<number> {
  const id = await requireAnyOwnDevice(deps, req, userId);
  if (!(await deps.devices.listKeyedDeviceIds(deps.db, userId)).includes(id))
    throw new AppError(403, 'invalid_device_credentials', `this needs ${DEVICE_ID_HEADER} and ${DEVICE_SECRET_HEADER} proving one of your devices that uploaded its keys`);
  return id;
}
