import { Router } from 'express';
import { z } from 'zod';
import { PrivacySettings, ReportBody } from '@cipherchat/contracts';
import { authUserId, validate } from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import {
  acceptConversation,
  blockUser,
  declineConversation,
  getPrivacy,
  listBlocks,
  putPrivacy,
  reportUser,
  unblockUser,
} from '../domain/safety.js';
import { consumeOrThrow, tryConsume, type RateLimits } from '../rate-limits.js';
import { requireAnyOwnDevice, requireKeyedOwnDevice } from './device-proof.js';

const IdParams = z.strictObject({ id: z.uuid() });
const UserParams = z.strictObject({ userId: z.uuid() });

/**
 * Message requests, blocks, reports and privacy settings (issue 15): accept or decline a
 * conversation, block and unblock people, report someone to the operators (rate-limited),
 * read and change what I share. Every input is validated before anything changes; a
 * conversation I am not in is 404, like a missing one. Whatever lowers my guard (accept,
 * decline, block, unblock, a report that blocks, privacy) needs proof of one of my devices (`X-Device-Id` +
 * `X-Device-Secret`): a stolen access token alone must not let a stalker unblock themselves,
 * accept their own request and then read my presence. What lowers my guard (accept, unblock,
 * privacy) needs a keyed device (one that uploaded its keys), not one a thief registered with a
 * stolen token; what raises it (decline, block) any of my devices. Reading and a report that
 * does not block need the token only.
 * @param deps use-case dependencies
 * @param limits the report rate limit
 * @returns the router (mounted under `/api/chat`)
 */
export function safetyRouter(deps: ChatDeps, limits: Pick<RateLimits, 'reports'>): Router {
  const r = Router();

  r.post('/conversations/:id/accept', async (req, res) => {
    const me = authUserId(req);
    const { id } = validate(IdParams, req.params, 'params');
    await requireKeyedOwnDevice(deps, req, me);
    await acceptConversation(deps, me, id);
    res.status(204).end();
  });

  r.post('/conversations/:id/decline', async (req, res) => {
    const me = authUserId(req);
    const { id } = validate(IdParams, req.params, 'params');
    await requireAnyOwnDevice(deps, req, me);
    await declineConversation(deps, me, id);
    res.status(204).end();
  });

  r.get('/blocks', async (req, res) => {
    res.json({ userIds: await listBlocks(deps, authUserId(req)) });
  });

  r.put('/blocks/:userId', async (req, res) => {
    const me = authUserId(req);
    const { userId } = validate(UserParams, req.params, 'params');
    await requireAnyOwnDevice(deps, req, me);
    await blockUser(deps, me, userId);
    res.status(204).end();
  });

  r.delete('/blocks/:userId', async (req, res) => {
    const me = authUserId(req);
    const { userId } = validate(UserParams, req.params, 'params');
    await requireKeyedOwnDevice(deps, req, me);
    await unblockUser(deps, me, userId);
    res.status(204).end();
  });

  r.post('/reports', async (req, res) => {
    const me = authUserId(req);
    const body = validate(ReportBody, req.body);
    // reporting alone changes nothing of mine; reporting and blocking is a block, which no
    // report limit may stop: over the limit the block is made and only the report is not filed
    if (body.block) {
      await requireAnyOwnDevice(deps, req, me);
      await reportUser(deps, me, body, await tryConsume(limits.reports, me));
    } else {
      await consumeOrThrow(limits.reports, me);
      await reportUser(deps, me, body);
    }
    res.status(202).end();
  });

  r.get('/privacy', async (req, res) => {
    res.json(await getPrivacy(deps, authUserId(req)));
  });

  r.put('/privacy', async (req, res) => {
    const me = authUserId(req);
    const body = validate(PrivacySettings, req.body);
    await requireKeyedOwnDevice(deps, req, me);
    res.json(await putPrivacy(deps, me, body));
  });

  return r;
}
