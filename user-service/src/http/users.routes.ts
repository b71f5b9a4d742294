import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { DirectoryQuery } from '@cipherchat/contracts';
import { authUserId, validate } from '@cipherchat/service-kit';
import type { UseCaseDeps } from '../use-cases/deps.js';
import { getPublicUser, searchDirectory } from '../use-cases/profile.js';

const UserParams = z.strictObject({ id: z.uuid() });

/**
 * `/api/user/users`: the directory (logged-in users only; never emails). Searches are limited
 * per account (`RATE_DIRECTORY_PER_MIN`, 429 `rate_limited` with `Retry-After`) so the
 * directory cannot be scraped by walking short prefixes and pages.
 * @param deps use case deps
 * @param guard live-session auth guard
 * @returns the router
 */
export function usersRouter(deps: UseCaseDeps, guard: RequestHandler): Router {
  const r = Router();
  r.use(guard);
  r.get('/', async (req, res) => {
    // counted before validation: a refused query is still a probe of the directory
    await deps.limits.countDirectorySearch(authUserId(req));
    const q = validate(DirectoryQuery, req.query, 'query');
    res.json(await searchDirectory(deps, q));
  });
  r.get('/:id', async (req, res) => {
    const { id } = validate(UserParams, req.params, 'params');
    res.json(await getPublicUser(deps, id));
  });
  return r;
}
