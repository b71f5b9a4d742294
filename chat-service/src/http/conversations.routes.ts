import { Router } from 'express';
import { z } from 'zod';
import {
  AddMembersBody,
  CreateConversationBody,
  UpdateConversationBody,
  UpdateMemberBody,
} from '@cipherchat/contracts';
import { AppError, authUserId, validate } from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import type { ConversationRow } from '../domain/ports.js';
import { requireKeyedOwnDevice } from './device-proof.js';
import {
  addGroupMembers,
  createConversation,
  getConversation,
  listConversations,
  clearGroupTitle,
  removeGroupMember,
  setMemberRole,
} from '../domain/conversations.js';

const IdParams = z.strictObject({ id: z.uuid() });
const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(200),
  cursor: z.string().max(200).optional(),
});
const Cursor = z.object({ u: z.iso.datetime(), id: z.uuid() });

function encodeCursor(c: ConversationRow): string {
  return Buffer.from(JSON.stringify({ u: c.updatedAt.toISOString(), id: c.id })).toString(
    'base64url',
  );
}

function decodeCursor(cursor: string | undefined): { updatedAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AppError(400, 'validation_error', 'invalid cursor');
  }
  const c = Cursor.safeParse(raw);
  if (!c.success) throw new AppError(400, 'validation_error', 'invalid cursor');
  return { updatedAt: new Date(c.data.u), id: c.data.id };
}
const MemberParams = z.strictObject({ id: z.uuid(), userId: z.uuid() });

/**
 * A conversation as its member `me` sees it: with `myState`, and without anyone's state (whether
 * someone accepted is theirs to tell).
 * @param c the stored conversation
 * @param me the caller
 * @returns the answer body
 */
function present(c: ConversationRow, me: string) {
  const members = c.members.map(({ userId, role, joinedAt }) => ({ userId, role, joinedAt }));
  const myState = c.members.find((m) => m.userId === me)?.state ?? 'accepted';
  return {
    ...c,
    members,
    myState,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

/**
 * Conversations: direct (one per pair), self (one per user; both idempotent creates) and groups
 * with roles; no server-side titles (a legacy one can only be cleared). Every read
 * and write checks membership first (in the use cases); a non-member gets 404, exactly like a
 * missing id, so the existence of a conversation is never revealed. Creating a conversation and
 * adding members need proof of one of the caller's devices (`X-Device-Id` + `X-Device-Secret`).
 * @param deps use-case dependencies
 * @returns the router
 */
export function conversationsRouter(deps: ChatDeps): Router {
  const r = Router();

  // Creating a conversation, or adding members, leaves it accepted for the caller (and reopening
  // a direct request or a declined one accepts it): once the other side accepts, each shares the
  // other's presence and vouches for them. That lowers the caller's guard like accepting does, so
  // it needs proof of one of the caller's devices, not an access token alone.
  r.post('/conversations', async (req, res) => {
    const me = authUserId(req);
    const body = validate(CreateConversationBody, req.body);
    await requireKeyedOwnDevice(deps, req, me);
    const { conversation, created } = await createConversation(deps, me, body);
    res.status(created ? 201 : 200).json(present(conversation, me));
  });

  r.get('/conversations', async (req, res) => {
    const { limit, cursor } = validate(ListQuery, req.query, 'query');
    const list = await listConversations(deps, authUserId(req), limit + 1, decodeCursor(cursor));
    const page = list.slice(0, limit);
    const last = page[page.length - 1];
    res.json({
      conversations: page.map((c) => present(c, authUserId(req))),
      nextCursor: list.length > limit && last ? encodeCursor(last) : null,
    });
  });

  r.get('/conversations/:id', async (req, res) => {
    const { id } = validate(IdParams, req.params, 'params');
    res.json(present(await getConversation(deps, authUserId(req), id), authUserId(req)));
  });

  r.patch('/conversations/:id', async (req, res) => {
    const me = authUserId(req);
    const { id } = validate(IdParams, req.params, 'params');
    // the body can only be {title: null}: titles are cleared, never set (they travel end to end)
    validate(UpdateConversationBody, req.body);
    res.json(present(await clearGroupTitle(deps, me, id), me));
  });

  r.post('/conversations/:id/members', async (req, res) => {
    const me = authUserId(req);
    const { id } = validate(IdParams, req.params, 'params');
    const body = validate(AddMembersBody, req.body);
    await requireKeyedOwnDevice(deps, req, me);
    res.json(present(await addGroupMembers(deps, me, id, body.userIds), me));
  });

  r.delete('/conversations/:id/members/:userId', async (req, res) => {
    const me = authUserId(req);
    const { id, userId } = validate(MemberParams, req.params, 'params');
    await removeGroupMember(deps, me, id, userId);
    res.status(204).end();
  });

  r.patch('/conversations/:id/members/:userId', async (req, res) => {
    const me = authUserId(req);
    const { id, userId } = validate(MemberParams, req.params, 'params');
    const body = validate(UpdateMemberBody, req.body);
    res.json(present(await setMemberRole(deps, me, id, userId, body.role), me));
  });

  return r;
}
