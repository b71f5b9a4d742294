import type { RequestHandler } from 'express';
import { AppError, UnauthorizedError, type RevocationList } from '@cipherchat/service-kit';

/**
 * Refuses a request whose access token belongs to an ended session (log out, "log out other
 * devices", password change or reset, account deletion): 401 `session_revoked`. One Redis
 * EXISTS per request (auto-pipelined). If Redis cannot answer, the request fails like any other
 * Redis outage (503) rather than letting a possibly revoked token through. Mount after
 * `requireAuth`.
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
