import { Router, type RequestHandler } from 'express';
import {
  LoginFinishBody,
  LoginStartBody,
  PasswordResetFinishBody,
  PasswordResetRequestBody,
  PasswordResetStartBody,
  RefreshBody,
  RegisterFinishBody,
  RegisterStartBody,
  VerifyEmailBody,
} from '@cipherchat/contracts';
import {
  REFRESH_COOKIE,
  UnauthorizedError,
  authUserId,
  readCookie,
  validate,
} from '@cipherchat/service-kit';
import type { UseCaseDeps } from '../use-cases/deps.js';
import { finishLogin, startLogin } from '../use-cases/login.js';
import { finishRegistration, startRegistration } from '../use-cases/registration.js';
import { logout, logoutAll, refreshSession } from '../use-cases/sessions.js';
import {
  finishPasswordReset,
  requestPasswordReset,
  startPasswordReset,
  verifyEmail,
} from '../use-cases/password.js';
import { clearAuthCookies, isNonBrowser, requestMeta, sendAuthResult } from './client-kind.js';

/**
 * `/api/user/auth/*`: registration, login, token refresh, logout, email verification, reset.
 * @param deps use case deps
 * @param guard the live-session auth guard (for logout-all)
 * @returns the router
 */
export function authRouter(deps: UseCaseDeps, guard: RequestHandler): Router {
  const r = Router();
  const secure = deps.config.COOKIE_SECURE;
  r.use(deps.limits.perIp);

  r.post('/register/start', async (req, res) => {
    const body = validate(RegisterStartBody, req.body);
    res.json(await startRegistration(deps, body));
  });

  r.post('/register/finish', async (req, res) => {
    const body = validate(RegisterFinishBody, req.body);
    // The same answer whether the address was free or taken; the client logs in next.
    await finishRegistration(deps, body, requestMeta(req));
    res.status(202).set('Cache-Control', 'no-store').json({ status: 'accepted' });
  });

  r.post('/login/start', async (req, res) => {
    const body = validate(LoginStartBody, req.body);
    res.set('Cache-Control', 'no-store').json(await startLogin(deps, body, requestMeta(req)));
  });

  r.post('/login/finish', async (req, res) => {
    const body = validate(LoginFinishBody, req.body);
    const { user, tokens } = await finishLogin(deps, body, requestMeta(req));
    const cli = isNonBrowser(req);
    sendAuthResult(res, { secure, refreshInBody: cli, setCookies: !cli }, user, tokens);
  });

  r.post('/refresh', async (req, res) => {
    const body = validate(RefreshBody, req.body ?? {});
    // A token sent in the body goes back in the body; a cookie goes back as a cookie. So script
    // in a page can never turn the httpOnly cookie into a readable token.
    const fromBody = body.refreshToken;
    const token = fromBody ?? readCookie(req, REFRESH_COOKIE);
    if (!token) throw new UnauthorizedError('no refresh token', 'invalid_token');
    try {
      const { user, tokens } = await refreshSession(deps, token, requestMeta(req));
      sendAuthResult(
        res,
        { secure, refreshInBody: fromBody !== undefined, setCookies: fromBody === undefined },
        user,
        tokens,
      );
    } catch (err) {
      if (fromBody === undefined) clearAuthCookies(res, secure);
      throw err;
    }
  });

  r.post('/logout', async (req, res) => {
    const body = validate(RefreshBody, req.body ?? {});
    const refreshToken = body.refreshToken ?? readCookie(req, REFRESH_COOKIE);
    await logout(deps, { refreshToken }, requestMeta(req));
    clearAuthCookies(res, secure);
    res.status(204).end();
  });

  r.post('/logout-all', guard, async (req, res) => {
    validate(RefreshBody, req.body ?? {});
    await logoutAll(deps, authUserId(req), requestMeta(req));
    clearAuthCookies(res, secure);
    res.status(204).end();
  });

  r.post('/verify-email', async (req, res) => {
    const body = validate(VerifyEmailBody, req.body);
    await verifyEmail(deps, body.token, requestMeta(req));
    res.status(204).end();
  });

  r.post('/password-reset/request', async (req, res) => {
    const body = validate(PasswordResetRequestBody, req.body);
    await requestPasswordReset(deps, body.email, requestMeta(req));
    res.status(202).json({ status: 'accepted' });
  });

  r.post('/password-reset/start', async (req, res) => {
    const body = validate(PasswordResetStartBody, req.body);
    res
      .set('Cache-Control', 'no-store')
      .json(await startPasswordReset(deps, body.token, body.registrationRequest));
  });

  r.post('/password-reset/finish', async (req, res) => {
    const body = validate(PasswordResetFinishBody, req.body);
    await finishPasswordReset(deps, body.token, body.registrationRecord, requestMeta(req));
    clearAuthCookies(res, secure);
    res.status(204).end();
  });

  return r;
}
