import { ApiError } from '../transport/api-error.js';
import type { ClientParts } from './client-parts.js';

/** Options of `ChatClient.logOut`. */
export interface LogOutOptions {
  /** Wipe the local store of this account (history, keys, queued messages). */
  forget?: boolean;
  /**
   * Remove this device from the account first (`DELETE /devices/:id` with its own proof, after
   * the key backup is flushed), so logged-out devices do not pile up against the device limit.
   */
  removeDevice?: boolean;
}

/**
 * Ends the session: disconnects, stops the outgoing queue, optionally removes this device from
 * the account (`OwnDevices.removeSelf`), stops the disappearing sweeper, uploads pending
 * backup state, revokes the refresh token and empties the session. If the removal fails
 * (server unreachable or refusing) nothing is logged out: the queue and the socket come back
 * and the error is thrown, so the app never claims a removal that did not happen.
 * @param parts the client's parts
 * @param options see {@link LogOutOptions}
 * @returns whether this device was removed from the account
 * @throws {ApiError} only with `removeDevice`, when the removal failed
 */
export async function logOutParts(
  parts: ClientParts,
  options: LogOutOptions,
): Promise<{ deviceRemoved: boolean }> {
  // A session opened without the server has not been checked by it yet (docs/client.md
  // "Offline"): nothing is removed from it, and its socket stays down.
  const offline = parts.session.current?.offline === true;
  if (options.removeDevice && offline)
    throw new ApiError(0, 'network_error', 'offline: reconnect before removing this device');
  parts.realtime.disconnect();
  parts.queue.stop();
  let deviceRemoved = false;
  if (options.removeDevice && parts.session.current) {
    try {
      await parts.ownDevices.removeSelf();
      deviceRemoved = true;
    } catch (err) {
      await parts.queue.resume().catch(() => undefined);
      if (!offline) await parts.realtime.connect().catch(() => undefined);
      throw err;
    }
  }
  parts.disappearing.stop();
  await parts.retries.stop();
  await parts.sessions.close(options.forget ?? false);
  parts.conversations.clear();
  parts.views.clear();
  parts.safety.clear();
  return { deviceRemoved };
}
