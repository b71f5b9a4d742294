import type { Request, Response } from 'express';
import { ACCESS_COOKIE, REFRESH_COOKIE } from '@cipherchat/service-kit';
import type { AuthResult } from '@cipherchat/contracts';
import { toMe, type User } from '../domain/user.js';
import type { RequestMeta } from '../store/audit.repository.js';
import type { IssuedTokens } from '../use-cases/sessions.js';

/** Path the refresh cookie is scoped to: only the auth routes ever receive it. */
export const REFRESH_COOKIE_PATH = '/api/user/auth';

/**
 * Whether the caller declared itself a non-browser client (`X-Client: cli`, `sdk`, ...).
 * Such clients get the refresh token in the body and no cookies; browsers get httpOnly cookies
 * and never see the refresh token.
 * @param req the request
 * @returns true for non-browser clients
 */
export function isNonBrowser(req: Request): boolean {
  const v = req.get('x-client');
  return typeof v === 'string' && v.length > 0 && v.toLowerCase() !== 'browser';
}

/**
 * IP and user agent for audit rows and the session list.
 * @param req the request (trust proxy is set for loopback/private hops, so `req.ip` is the client)
 * @returns request metadata
 */
export function requestMeta(req: Request): RequestMeta {
  return {
    ip: (req.ip ?? '').slice(0, 64),
    userAgent: (req.get('user-agent') ?? '').slice(0, 512),
  };
}

/**
 * Sends an AuthResult: cookies (and neither token in the body) for browsers, both tokens in the
 * body for the others.
 * @param res response
 * @param opts cookie security and whether the refresh token goes in the body
 * @param user the user
 * @param tokens issued tokens
 * @param status HTTP status
 */
export function sendAuthResult(
  res: Response,
  opts: { secure: boolean; refreshInBody: boolean; setCookies: boolean },
  user: User,
  tokens: IssuedTokens,
  status = 200,
): void {
  if (opts.setCookies) setAuthCookies(res, opts.secure, tokens);
  const body: AuthResult = {
    user: toMe(user),
    // Cookie clients never see the access token: it is in the httpOnly cookie only.
    ...(opts.setCookies ? {} : { accessToken: tokens.accessToken }),
    accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
    ...(opts.refreshInBody ? { refreshToken: tokens.refreshToken } : {}),
  };
  res.status(status).set('Cache-Control', 'no-store').json(body);
}

/**
 * Sets `cc_access` (Path=/, 15 min) and `cc_refresh` (Path=/api/user/auth, 30 days), both
 * HttpOnly and SameSite=Strict.
 * @param res response
 * @param secure whether to add `Secure`
 * @param tokens issued tokens
 */
export function setAuthCookies(res: Response, secure: boolean, tokens: IssuedTokens): void {
  const now = Date.now();
  // ceil: the JWT's exp is whole seconds, so the cookie never outlives the token by design drift
  const maxAge = (until: Date) => Math.ceil((until.getTime() - now) / 1000) * 1000;
  res.cookie(ACCESS_COOKIE, tokens.accessToken, {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: '/',
    maxAge: maxAge(tokens.accessTokenExpiresAt),
  });
  res.cookie(REFRESH_COOKIE, tokens.refreshToken, {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: REFRESH_COOKIE_PATH,
    maxAge: maxAge(tokens.refreshTokenExpiresAt),
  });
}

/**
 * Clears both auth cookies (logout, account deletion, failed refresh).
 * @param res response
 * @param secure whether the cookies were Secure
 */
export function clearAuthCookies(res: Response, secure: boolean): void {
  res.clearCookie(ACCESS_COOKIE, { httpOnly: true, secure, sameSite: 'strict', path: '/' });
  res.clearCookie(REFRESH_COOKIE, {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: REFRESH_COOKIE_PATH,
  });
}
