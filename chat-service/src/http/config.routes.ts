import { Router } from 'express';
import type { ChatConfigResult } from '@cipherchat/contracts';
import type { ChatDeps } from '../domain/deps.js';

/**
 * `GET /config`: the limits a client checks before doing the work (so a file over the
 * attachment limit is refused before it is encrypted and uploaded). The same answer for every
 * signed-in user; nothing in it is per-user.
 * @param deps use-case dependencies (the service config)
 * @returns the router
 */
export function configRouter(deps: ChatDeps): Router {
  const r = Router();
  r.get('/config', (_req, res) => {
    const body: ChatConfigResult = { attachmentMaxBytes: deps.config.ATTACHMENT_MAX_BYTES };
    res.json(body);
  });
  return r;
}
