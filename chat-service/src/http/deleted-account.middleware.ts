import type { RequestHandler } from 'express';
import { UnauthorizedError, authUserId } from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import { isAccountDeleted } from '../domain/accounts.js';

/**
 * Refuses every request of a deleted user (401 `account_deleted`). An access token outlives
 * the account by up to its 15-minute lifetime; without this, `POST /devices` would recreate the
 * account row and the user could upload keys, a backup or create conversations again. One
 * primary-key lookup per request; not cached, so a deletion takes effect at once.
 * Mount after `requireAuth`.
 * @param deps use-case dependencies
 * @returns middleware
 * @throws {UnauthorizedError} `account_deleted`
 */
export function refuseDeletedAccounts(deps: ChatDeps): RequestHandler {
  return async (req, _res, next) => {
    if (await isAccountDeleted(deps, authUserId(req))) throw new UnauthorizedError('this account was deleted', 'account_deleted');
    next();
  };
}
