import type { ExtendedError } from 'socket.io';
import { SocketAuth, type HandshakeErrorCode } from '@cipherchat/contracts';
import {
  UnauthorizedError,
  readAccessToken,
  type Logger,
  type RevocationList,
  type TokenVerifier,
} from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import { isAccountDeleted } from '../domain/accounts.js';
import { proveDevice } from '../domain/devices.js';
import type { ChatSocket } from './chat-socket.js';

/**
 * The handshake `auth` as parsed here: the device secret is optional so that a missing one is
 * refused with `invalid_device_credentials` after the token check, exactly like a wrong one.
 */
const HandshakeAuth = SocketAuth.partial({ deviceSecret: true });

function refuse(code: HandshakeErrorCode, message: string): Error {
  const err = new Error(message) as Error & { data: { code: HandshakeErrorCode } };
  err.data = { code };
  return err;
}

/**
 * The connection middleware: authenticates a socket by its bearer token (in `auth`, or the
 * `cc_access` cookie from an allowed origin only), verified against the JWKS, plus a
 * registered device of that user proven by its device secret. Refusals carry `err.data.code`.
 * Sets `socket.data`.
 * @param deps use-case dependencies
 * @param verifyToken access-token verifier
 * @param revocations ended sessions (refused with `session_revoked`)
 * @param allowedOrigins origins a cookie-authenticated handshake may come from
 * @param logger for unexpected failures
 * @returns the Socket.IO middleware
 */
export function handshake(
  deps: ChatDeps,
  verifyToken: TokenVerifier,
  revocations: RevocationList,
  allowedOrigins: ReadonlySet<string>,
  logger: Logger,
): (socket: ChatSocket, next: (err?: ExtendedError) => void) => void {
  return (socket, next) => {
    void (async () => {
      const auth = HandshakeAuth.safeParse(socket.handshake.auth ?? {});
      if (!auth.success)
        return next(
          refuse('unauthorized', 'handshake auth must be {deviceId, deviceSecret, token?}'),
        );
      let token = auth.data.token;
      if (!token) {
        token = readAccessToken(socket.request);
        const viaCookie = token !== undefined && !socket.request.headers.authorization;
        // Cross-site WebSocket hijacking: a cookie-authenticated handshake must come from our origin.
        const origin = socket.request.headers.origin?.replace(/\/$/, '');
        if (viaCookie && (!origin || !allowedOrigins.has(origin)))
          return next(refuse('origin_not_allowed', 'origin not allowed'));
      }
      if (!token) return next(refuse('unauthorized', 'access token required'));
      let claims;
      try {
        claims = await verifyToken(token);
      } catch (err) {
        const code =
          err instanceof UnauthorizedError && err.code === 'token_expired'
            ? 'token_expired'
            : 'unauthorized';
        return next(
          refuse(code, code === 'token_expired' ? 'access token expired' : 'invalid access token'),
        );
      }
      // a token outlives its deleted account by up to 15 minutes
      if (await isAccountDeleted(deps, claims.userId))
        return next(refuse('account_deleted', 'this account was deleted'));
      // a token also outlives its session (log out, revoked device)
      if (await revocations.isRevoked(claims))
        return next(refuse('session_revoked', 'this session has ended; log in again'));
      // The token names the user only (any of their sessions); the device secret proves which device.
      const proof = await proveDevice(
        deps,
        claims.userId,
        auth.data.deviceId,
        auth.data.deviceSecret,
      );
      if (proof === 'unknown_device')
        return next(refuse('unknown_device', 'this device is not registered for the account'));
      if (proof === 'invalid_device_credentials')
        return next(
          refuse('invalid_device_credentials', 'the device secret does not prove this device'),
        );
      socket.data = {
        userId: claims.userId,
        deviceId: auth.data.deviceId,
        sessionId: claims.sessionId,
        exp: claims.exp,
      };
      next();
    })().catch((err: unknown) => {
      logger.warn({ err: (err as Error).message }, 'socket handshake failed');
      next(refuse('unavailable', 'temporarily unavailable'));
    });
  };
}
