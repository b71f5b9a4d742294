import { parse as parseCookie } from 'cookie';
import { createRemoteJWKSet, createLocalJWKSet, jwtVerify, errors as joseErrors, type JSONWebKeySet } from 'jose';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError } from '../errors.js';

/** Name of the httpOnly cookie carrying the access token. */
export const ACCESS_COOKIE = 'cc_access';
/** Name of the httpOnly cookie carrying the refresh token (path-scoped to /api/user/auth). */
export const REFRESH_COOKIE = 'cc_refresh';
/** Issuer and audience of access tokens. */
export const TOKEN_ISSUER = 'cipherchat/user-service';
export const TOKEN_AUDIENCE = 'cipherchat';

/** What a verified access token says. */
export interface AccessClaims {
  /** User id (`sub`). */
  userId: string;
  /** Session (refresh-token family) id. */
  sessionId: string;
  /** Expiry, epoch seconds. */
  exp: number;
  /**
   * `auth_time`: epoch seconds of the login (or registration) that started the session; a
   * refresh keeps it. Undefined when the token has none (older tokens): treat as not fresh.
   */
  authTime?: number;
}

/** Verifies ES256 access tokens against user-service's JWKS (public keys only). */
export type TokenVerifier = (token: string) => Promise<AccessClaims>;

/**
 * Creates a verifier that only accepts ES256 tokens signed by a key of the JWKS.
 * `alg: none`, HS256 and any other algorithm are refused.
 * @param source a JWKS URL (fetched and cached, refreshed on unknown `kid`) or a key set
 * @returns the verifier
 */
export function createTokenVerifier(source: string | JSONWebKeySet): TokenVerifier {
  const keys = typeof source === 'string' ? createRemoteJWKSet(new URL(source), { cooldownDuration: 30_000 }) : createLocalJWKSet(source);
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: ['ES256'],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.exp !== 'number') {
        throw new UnauthorizedError('token lacks required claims');
      }
      const authTime = typeof payload.auth_time === 'number' && Number.isFinite(payload.auth_time) ? payload.auth_time : undefined;
      return { userId: payload.sub, sessionId: payload.sid, exp: payload.exp, ...(authTime === undefined ? {} : { authTime }) };
    } catch (err) {
      if (err instanceof UnauthorizedError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new UnauthorizedError('access token expired', 'token_expired');
      throw new UnauthorizedError('invalid access token');
    }
  };
}

/**
 * Reads the access token of a request: `Authorization: Bearer` first, then the cookie.
 * @param req an HTTP request (Express or the raw Socket.IO handshake request)
 * @returns the token, or undefined
 */
export function readAccessToken(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim() || undefined;
  return readCookie(req, ACCESS_COOKIE);
}

/**
 * Reads one cookie of a request.
 * @param req the request
 * @param name cookie name
 * @returns its value or undefined
 */
export function readCookie(req: Pick<IncomingMessage, 'headers'>, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  return parseCookie(header)[name] || undefined;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by {@link requireAuth}. */
    auth?: AccessClaims;
  }
}

/**
 * Express middleware: requires a valid access token and sets `req.auth`.
 * @param verify the token verifier
 * @returns middleware
 */
export function requireAuth(verify: TokenVerifier): RequestHandler {
  return async (req, _res, next) => {
    const token = readAccessToken(req);
    if (!token) throw new UnauthorizedError();
    req.auth = await verify(token);
    next();
  };
}

/**
 * Returns the authenticated user id, asserting the route is behind {@link requireAuth}.
 * @param req the request
 * @returns the user id
 */
export function authUserId(req: { auth?: AccessClaims }): string {
  if (!req.auth) throw new UnauthorizedError();
  return req.auth.userId;
}

/**
 * CSRF defence for cookie-authenticated browsers: a state-changing request that carries
 * cookies must come from an allowed Origin. Bearer-token clients are not browsers and pass.
 * @param allowedOrigins exact origins (e.g. `http://localhost:8080`)
 * @returns middleware
 */
export function requireSameOrigin(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins.map((o) => o.replace(/\/$/, '')));
  return (req, _res, next) => {
    const safe = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
    if (safe || req.headers.authorization?.startsWith('Bearer ') || !req.headers.cookie) return next();
    const origin = req.headers.origin ?? refererOrigin(req.headers.referer);
    if (!origin || !allowed.has(origin)) {
      throw new ForbiddenError('request origin is not allowed', 'origin_not_allowed');
    }
    next();
  };
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}
