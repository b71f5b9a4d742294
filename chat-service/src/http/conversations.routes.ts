import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { AddMembersBody, CreateConversationBody, UpdateConversationBody, UpdateMemberBody } from '@cipherchat/contracts';
import { AppError, ForbiddenError, NotFoundError, authUserId, validate, withTransaction } from '@cipherchat/service-kit';
import type { ChatContext } from '../context.js';
import { canManage, canRemoveMember, directKey } from '../domain/conversation.rules.js';
import {
  addMembers,
  conversationInfo,
  createDirect,
  createGroup,
  deletedAmong,
  findForMember,
  listForMember,
  memberIds,
  removeMember,
  roleOf,
  setRole,
  setTitle,
  type ConversationRow,
} from '../store/conversation.repository.js';

const IdParams = z.strictObject({ id: z.uuid() });
const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(200),
  cursor: z.string().max(200).optional(),
});
const Cursor = z.object({ u: z.iso.datetime(), id: z.uuid() });

function encodeCursor(c: ConversationRow): string {
  return Buffer.from(JSON.stringify({ u: c.updatedAt.toISOString(), id: c.id })).toString('base64url');
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

function present(c: ConversationRow) {
  return { ...c, createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString() };
}

/**
 * Conversations: direct (one per pair, idempotent create) and groups with roles. Every read
 * and write checks membership first; a non-member gets 404, exactly like a missing id, so
 * the existence of a conversation is never revealed.
 * @param ctx shared service context
 * @returns the router
 */
export function conversationsRouter(ctx: ChatContext): Router {
  const r = Router();
  const notFound = () => new NotFoundError('conversation');

  r.post('/conversations', async (req, res) => {
    const me = authUserId(req);
    const body = validate(CreateConversationBody, req.body);
    const others = [...new Set(body.memberIds)].filter((u) => u !== me);
    if (body.kind === 'direct') {
      if (others.length !== 1) throw new AppError(400, 'validation_error', 'a direct conversation has exactly one other member');
      if (body.title !== undefined) throw new AppError(400, 'validation_error', 'direct conversations have no title');
    } else if (others.length + 1 > ctx.config.MAX_GROUP_MEMBERS) {
      throw new AppError(422, 'validation_error', `a group has at most ${ctx.config.MAX_GROUP_MEMBERS} members`);
    }
    const result = await withTransaction(ctx.ds, async (m) => {
      if ((await deletedAmong(m, others)).length > 0) throw new AppError(422, 'validation_error', 'a member no longer exists');
      if (body.kind === 'direct') return createDirect(m, randomUUID(), directKey(me, others[0] as string), me, others[0] as string);
      const id = randomUUID();
      await createGroup(m, id, me, others, body.title ?? null);
      return { id, created: true };
    });
    const conv = await findForMember(ctx.ds.manager, result.id, me);
    if (!conv) throw notFound();
    if (result.created) ctx.notifyUsers(others, 'conversation:updated', { conversationId: conv.id });
    res.status(result.created ? 201 : 200).json(present(conv));
  });

  r.get('/conversations', async (req, res) => {
    const { limit, cursor } = validate(ListQuery, req.query, 'query');
    const list = await listForMember(ctx.ds.manager, authUserId(req), limit + 1, decodeCursor(cursor));
    const page = list.slice(0, limit);
    const last = page[page.length - 1];
    res.json({ conversations: page.map(present), nextCursor: list.length > limit && last ? encodeCursor(last) : null });
  });

  r.get('/conversations/:id', async (req, res) => {
    const { id } = validate(IdParams, req.params, 'params');
    const conv = await findForMember(ctx.ds.manager, id, authUserId(req));
    if (!conv) throw notFound();
    res.json(present(conv));
  });

  r.patch('/conversations/:id', async (req, res) => {
    const me = authUserId(req);
    const { id } = validate(IdParams, req.params, 'params');
    const body = validate(UpdateConversationBody, req.body);
    await withTransaction(ctx.ds, async (m) => {
      const role = await roleOf(m, id, me);
      if (!role) throw notFound();
      const info = await conversationInfo(m, id);
      if (info?.kind !== 'group') throw new AppError(400, 'validation_error', 'only groups have a title');
      if (!canManage(role)) throw new ForbiddenError('only owners and admins can rename a group');
      await setTitle(m, id, body.title);
    });
    await announce(ctx, id);
    res.json(present((await findForMember(ctx.ds.manager, id, me)) as ConversationRow));
  });

  r.post('/conversations/:id/members', async (req, res) => {
    const me = authUserId(req);
    const { id } = validate(IdParams, req.params, 'params');
    const body = validate(AddMembersBody, req.body);
    const userIds = [...new Set(body.userIds)];
    await withTransaction(ctx.ds, async (m) => {
      const role = await roleOf(m, id, me);
      if (!role) throw notFound();
      const info = await conversationInfo(m, id); // locks the conversation row: serialises member changes
      if (!info || info.kind !== 'group') throw new AppError(400, 'validation_error', 'members can only be added to groups');
      if (!canManage(role)) throw new ForbiddenError('only owners and admins can add members');
      if ((await deletedAmong(m, userIds)).length > 0) throw new AppError(422, 'validation_error', 'a member no longer exists');
      const added = await addMembers(m, id, userIds);
      if (info.members + added.length > ctx.config.MAX_GROUP_MEMBERS) {
        throw new AppError(422, 'validation_error', `a group has at most ${ctx.config.MAX_GROUP_MEMBERS} members`);
      }
    });
    await announce(ctx, id);
    res.json(present((await findForMember(ctx.ds.manager, id, me)) as ConversationRow));
  });

  r.delete('/conversations/:id/members/:userId', async (req, res) => {
    const me = authUserId(req);
    const { id, userId } = validate(MemberParams, req.params, 'params');
    const before = await withTransaction(ctx.ds, async (m) => {
      const role = await roleOf(m, id, me);
      if (!role) throw notFound();
      const info = await conversationInfo(m, id);
      if (!info || info.kind !== 'group') throw new AppError(400, 'validation_error', 'direct conversations have fixed members');
      const targetRole = await roleOf(m, id, userId);
      if (!targetRole) throw new NotFoundError('member');
      if (!canRemoveMember(role, targetRole, me === userId)) throw new ForbiddenError('not allowed to remove this member');
      const members = await memberIds(m, id);
      await removeMember(m, id, userId);
      return members;
    });
    ctx.notifyUsers(before, 'conversation:updated', { conversationId: id });
    res.status(204).end();
  });

  r.patch('/conversations/:id/members/:userId', async (req, res) => {
    const me = authUserId(req);
    const { id, userId } = validate(MemberParams, req.params, 'params');
    const body = validate(UpdateMemberBody, req.body);
    await withTransaction(ctx.ds, async (m) => {
      const role = await roleOf(m, id, me);
      if (!role) throw notFound();
      if (role !== 'owner') throw new ForbiddenError('only the owner can change roles');
      if (!(await setRole(m, id, userId, body.role))) throw new NotFoundError('member');
    });
    await announce(ctx, id);
    res.json(present((await findForMember(ctx.ds.manager, id, me)) as ConversationRow));
  });

  return r;
}

async function announce(ctx: ChatContext, id: string): Promise<void> {
  ctx.notifyUsers(await memberIds(ctx.ds.manager, id), 'conversation:updated', { conversationId: id });
}
