import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { PasswordChangeFinishBody, PasswordChangeStartBody, UpdateMeBody } from '@cipherchat/contracts';
import { NotFoundError, authUserId, strictAssert, validate } from '@cipherchat/service-kit';
import { toMe } from '../domain/user.js';
import type { UseCaseDeps } from '../use-cases/deps.js';
import { deleteMe, exportMe, getMe, mySessions, presentSession, updateMe } from '../use-cases/profile.js';
import { finishPasswordChange, requestVerification, startPasswordChange } from '../use-cases/password.js';
import { logoutAll, revokeMySession } from '../use-cases/sessions.js';
import { clearAuthCookies, requestMeta } from './client-kind.js';
import { requireRecentLogin } from './auth-guard.js';

const SessionParams = z.strictObject({ sessionId: z.uuid() });
const EmptyBody = z.union([z.undefined(), z.strictObject({})]);

/**
 * `/api/user/me/*`: my profile, password change, sessions, export, deletion.
 * @param deps use case deps
 * @param guard live-session auth guard
 * @param perIp per-IP limiter (password change routes)
 * @returns the router
 */
export function meRouter(deps: UseCaseDeps, guard: RequestHandler, perIp: RequestHandler): Router {
  const r = Router();
  const secure = deps.config.COOKIE_SECURE;
  r.use(guard);
  const sudo = requireRecentLogin(deps.ds, deps.config.REAUTH_WINDOW_S);

  r.get('/', async (req, res) => {
    res.set('Cache-Control', 'no-store').json(toMe(await getMe(deps, authUserId(req))));
  });

  r.patch('/', async (req, res) => {
    const body = validate(UpdateMeBody, req.body);
    res.json(toMe(await updateMe(deps, authUserId(req), body, requestMeta(req))));
  });

  r.delete('/', sudo, async (req, res) => {
    validate(EmptyBody, req.body);
    await deleteMe(deps, authUserId(req), requestMeta(req));
    clearAuthCookies(res, secure);
    res.status(204).end();
  });

  r.get('/export', async (req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .set('Content-Disposition', 'attachment; filename="cipherchat-account-export.json"')
      .json(await exportMe(deps, authUserId(req)));
  });

  r.post('/verify-email', async (req, res) => {
    validate(EmptyBody, req.body);
    await requestVerification(deps, authUserId(req));
    res.status(202).json({ status: 'accepted' });
  });

  r.post('/password/start', perIp, sudo, async (req, res) => {
    const body = validate(PasswordChangeStartBody, req.body);
    res.set('Cache-Control', 'no-store').json(await startPasswordChange(deps, authUserId(req), body.registrationRequest));
  });

  r.post('/password/finish', perIp, sudo, async (req, res) => {
    const body = validate(PasswordChangeFinishBody, req.body);
    strictAssert(req.auth, 'guarded route');
    await finishPasswordChange(deps, req.auth.userId, req.auth.sessionId, body.registrationRecord, requestMeta(req));
    res.status(204).end();
  });

  r.get('/sessions', async (req, res) => {
    strictAssert(req.auth, 'guarded route');
    const current = req.auth.sessionId;
    const sessions = await mySessions(deps, req.auth.userId);
    res.set('Cache-Control', 'no-store').json({ sessions: sessions.map((s) => ({ ...presentSession(s), current: s.id === current })) });
  });

  r.post('/sessions/revoke-others', async (req, res) => {
    validate(EmptyBody, req.body);
    strictAssert(req.auth, 'guarded route');
    const revoked = await logoutAll(deps, req.auth.userId, requestMeta(req), req.auth.sessionId);
    res.json({ revoked });
  });

  r.delete('/sessions/:sessionId', async (req, res) => {
    const { sessionId } = validate(SessionParams, req.params, 'params');
    if (!(await revokeMySession(deps, authUserId(req), sessionId, requestMeta(req)))) throw new NotFoundError('session');
    res.status(204).end();
  });

  return r;
}
