import type { RequestHandler } from 'express';
import { AppError, UnauthorizedError } from '../errors.js';
import type { RevocationList } from './revocation.js';

/**
 * Refuses a request whose access token belongs to an ended session (log out, "log out other
 * devices", password change or reset, account deletion): 401 `session_revoked`. One Redis
 * EXISTS per request (auto-pipelined where the client enables it). If Redis cannot answer, the
 * request fails like any other Redis outage (503 `unavailable`) rather than letting a possibly
 * revoked token through. Mount after `requireAuth`; chat-service and notification-service use
 * it on every authenticated route.
 * @param revocations the revocation list user-service writes
 * @returns middleware
 * @throws {UnauthorizedError} `session_revoked`
 */
export function refuseRevokedSessions(revocations: RevocationList): RequestHandler {
  return async (req, _res, next) => {
    const auth = req.auth;
    if (!auth) throw new UnauthorizedError();
    let revoked: boolean;
    try {
      revoked = await revocations.isRevoked(auth);
    } catch (err) {
      throw new AppError(503, 'unavailable', 'temporarily unavailable, try again', undefined, {
        cause: err,
      });
    }
    if (revoked)
      throw new UnauthorizedError('this session has ended; log in again', 'session_revoked');
    next();
  };
}
