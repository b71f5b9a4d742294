import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { UpdatePreferencesBody } from '@cipherchat/contracts';
import {
  authUserId,
  refuseRevokedSessions,
  requireAuth,
  requireSameOrigin,
  validate,
  withTransaction,
  type RevocationList,
  type TokenVerifier,
} from '@cipherchat/service-kit';
import { presentPreferences } from '../domain/policy.js';
import { getPreferences, savePreferences } from '../store/preferences.repository.js';

/**
 * `GET/PUT /preferences`: the signed-in user's email preferences (their own only: the user id
 * comes from the access token, never from the request). A revoked session's token (logout,
 * password change, ...) is refused with 401 `session_revoked`, like at chat-service.
 * @param deps data source, token verifier, revocation list, allowed origins (CSRF check for cookie requests), default delay
 * @returns router to mount at /api/notifications
 */
export function preferencesRouter(deps: { ds: DataSource; verifyToken: TokenVerifier; revocations: RevocationList; allowedOrigins: readonly string[]; defaultDelayMinutes: number }): Router {
  const { ds, defaultDelayMinutes } = deps;
  const router = Router();
  router.use('/preferences', requireSameOrigin(deps.allowedOrigins), requireAuth(deps.verifyToken), refuseRevokedSessions(deps.revocations));

  router.get('/preferences', async (req, res) => {
    const prefs = await getPreferences(ds.manager, authUserId(req));
    res.setHeader('Cache-Control', 'no-store');
    res.json(presentPreferences(prefs, defaultDelayMinutes));
  });

  router.put('/preferences', async (req, res) => {
    const userId = authUserId(req);
    const body = validate(UpdatePreferencesBody, req.body, 'body');
    const saved = await withTransaction(ds, async (m) => {
      const current = await getPreferences(m, userId, true);
      return savePreferences(m, userId, {
        welcome: body.email?.welcome ?? current.welcome,
        newLogin: body.email?.newLogin ?? current.newLogin,
        digest: body.email?.digest ?? current.digest,
        digestDelayMinutes: body.digestDelayMinutes ?? current.digestDelayMinutes,
        digestContent: body.digestContent ?? current.digestContent,
        updatedAt: current.updatedAt,
      });
    });
    res.setHeader('Cache-Control', 'no-store');
    res.json(presentPreferences(saved, defaultDelayMinutes));
  });
  return router;
}
