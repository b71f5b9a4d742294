import type { RequestHandler } from 'express';
import type { DataSource } from 'typeorm';
import { UnauthorizedError, readAccessToken, type TokenVerifier } from '@cipherchat/service-kit';
import { isSessionLive, sessionAgeSeconds } from '../store/session.repository.js';

/**
 * user-service's own auth guard: the JWT must verify (ES256, our JWKS) AND its session must still
 * be live in the database. Other services only check the JWT, so there a revoked session's access
 * token lasts until it expires (15 min); here, logout takes effect at once.
 * @param verify token verifier over our own public keys
 * @param ds data source
 * @returns middleware setting `req.auth`
 */
export function requireLiveSession(verify: TokenVerifier, ds: DataSource): RequestHandler {
  return async (req, _res, next) => {
    const token = readAccessToken(req);
    if (!token) throw new UnauthorizedError();
    const claims = await verify(token);
    if (!(await isSessionLive(ds.manager, claims.sessionId, claims.userId))) {
      throw new UnauthorizedError('session has ended; log in again', 'invalid_token');
    }
    req.auth = claims;
    next();
  };
}

/**
 * "Sudo mode" for dangerous changes (password change, account deletion): the session must come
 * from a login (OPAQUE proof of the password) less than `windowSeconds` ago. A stolen access or
 * refresh token alone therefore cannot lock the owner out. Use after {@link requireLiveSession}.
 * @param ds data source
 * @param windowSeconds how recent the login must be
 * @returns middleware
 */
export function requireRecentLogin(ds: DataSource, windowSeconds: number): RequestHandler {
  return async (req, _res, next) => {
    const auth = req.auth;
    if (!auth) throw new UnauthorizedError();
    const age = await sessionAgeSeconds(ds.manager, auth.sessionId);
    if (age === undefined || age > windowSeconds) {
      throw new UnauthorizedError('log in again (enter your password) to do this', 'reauth_required');
    }
    next();
  };
}
