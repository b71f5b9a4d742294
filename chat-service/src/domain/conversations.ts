import { randomUUID } from 'node:crypto';
import type { CreateConversationBody } from '@cipherchat/contracts';
import { AppError, ForbiddenError, NotFoundError } from '@cipherchat/service-kit/errors';
import { canManage, canRemoveMember, directKey } from './conversation.rules.js';
import type { ChatDeps } from './deps.js';
import type { ConversationRow } from './ports.js';
import { sharePresenceNow } from './presence.js';

// Every read and write checks membership first; a non-member gets 404 exactly like a missing
// id (on the socket: `not_member` for both), so the existence of a conversation is never revealed.

const notFound = () => new NotFoundError('conversation');

/**
 * Creates a conversation and tells the other members (`conversation:updated`) when it is new
 * (each of them who does not know the caller gets it as a request, see SafetyStore.markRequests):
 * a direct one (one per pair: idempotent), the caller's self conversation (one per user:
 * idempotent; `memberIds` must be exactly the caller) or a group owned by the caller. No
 * conversation gets a title: group titles travel end to end in group control messages.
 * @param deps config, conversation store, notifier
 * @param me the caller
 * @param body the validated request
 * @returns the conversation and whether it was created now
 * @throws {AppError} `validation_error` (400: member count, a title; 422: group too large, a
 *   deleted member)
 */
export async function createConversation(deps: ChatDeps, me: string, body: CreateConversationBody): Promise<{ conversation: ConversationRow; created: boolean }> {
  if (body.title !== undefined) {
    throw new AppError(400, 'validation_error', 'conversations have no server-side title: group titles travel end to end in group control messages');
  }
  const others = [...new Set(body.memberIds)].filter((u) => u !== me);
  const max = deps.config.MAX_GROUP_MEMBERS;
  if (body.kind === 'direct' && others.length !== 1) throw new AppError(400, 'validation_error', 'a direct conversation has exactly one other member');
  if (body.kind === 'self' && others.length !== 0) throw new AppError(400, 'validation_error', 'a self conversation has exactly one member: memberIds must be [your user id]');
  if (body.kind === 'group' && others.length + 1 > max) throw new AppError(422, 'validation_error', `a group has at most ${max} members`);
  const store = deps.conversations;
  const result = await deps.transact(async (tx) => {
    if ((await store.deletedAmong(tx, others)).length > 0) throw new AppError(422, 'validation_error', 'a member no longer exists');
    if (body.kind === 'self') return { ...(await store.createSelf(tx, randomUUID(), me)), reopened: false };
    if (body.kind === 'direct') {
      const direct = await store.createDirect(tx, randomUUID(), directKey(me, others[0] as string), me, others[0] as string);
      if (direct.created) await deps.safety.markRequests(tx, direct.id, me, others);
      // re-opened by the one who had it as a request (or declined it): accepted for them now
      const reopened = !direct.created && (await deps.safety.stateOf(tx, direct.id, me)) !== 'accepted';
      if (reopened) await deps.safety.setState(tx, direct.id, me, 'accepted');
      return { ...direct, reopened };
    }
    const id = randomUUID();
    await store.createGroup(tx, id, me, others);
    await deps.safety.markRequests(tx, id, me, others);
    return { id, created: true, reopened: false };
  });
  const conversation = await store.findForMember(deps.db, result.id, me);
  if (!conversation) throw notFound();
  if (result.created) deps.notifier.notifyUsers(others, 'conversation:updated', { conversationId: conversation.id });
  if (result.reopened) await sharePresenceNow(deps, me, others);
  return { conversation, created: result.created };
}

/**
 * The caller's conversations, most recently updated first (keyset paging).
 * @param deps conversation store
 * @param me the caller
 * @param limit page size
 * @param after the last (updatedAt, id) of the previous page
 * @returns up to `limit` conversations
 */
export function listConversations(deps: ChatDeps, me: string, limit: number, after?: { updatedAt: Date; id: string }): Promise<ConversationRow[]> {
  return deps.conversations.listForMember(deps.db, me, limit, after);
}

/**
 * @param deps conversation store
 * @param me the caller
 * @param id the conversation
 * @returns the conversation
 * @throws {NotFoundError} when missing or the caller is not a member
 */
export async function getConversation(deps: ChatDeps, me: string, id: string): Promise<ConversationRow> {
  const conv = await deps.conversations.findForMember(deps.db, id, me);
  if (!conv) throw notFound();
  return conv;
}

/**
 * Clears a group's legacy title. Any member may: the client that moves the title into an end to
 * end group control message may be a plain member. Titles cannot be set any more.
 * @param deps conversation store, notifier
 * @param me the caller
 * @param id the group
 * @returns the conversation after the change
 * @throws {NotFoundError} not a member; {@link AppError} `validation_error` not a group
 */
export async function clearGroupTitle(deps: ChatDeps, me: string, id: string): Promise<ConversationRow> {
  const store = deps.conversations;
  await deps.transact(async (tx) => {
    const role = await store.roleOf(tx, id, me);
    if (!role) throw notFound();
    const info = await store.conversationInfo(tx, id);
    if (info?.kind !== 'group') throw new AppError(400, 'validation_error', 'only groups have a title');
    await store.clearTitle(tx, id);
  });
  return announceAndReload(deps, me, id);
}

/**
 * Adds members to a group (owners and admins; at most MAX_GROUP_MEMBERS; never deleted users).
 * @param deps config, conversation store, notifier
 * @param me the caller
 * @param id the group
 * @param userIds the users to add (already members are skipped)
 * @returns the conversation after the change
 * @throws {NotFoundError} not a member; {@link AppError} `validation_error`; {@link ForbiddenError}
 */
export async function addGroupMembers(deps: ChatDeps, me: string, id: string, userIds: readonly string[]): Promise<ConversationRow> {
  const store = deps.conversations;
  const unique = [...new Set(userIds)];
  const max = deps.config.MAX_GROUP_MEMBERS;
  await deps.transact(async (tx) => {
    const role = await store.roleOf(tx, id, me);
    if (!role) throw notFound();
    const info = await store.conversationInfo(tx, id); // locks the conversation row: serialises member changes
    if (!info || info.kind !== 'group') throw new AppError(400, 'validation_error', 'members can only be added to groups');
    if (!canManage(role)) throw new ForbiddenError('only owners and admins can add members');
    if ((await store.deletedAmong(tx, unique)).length > 0) throw new AppError(422, 'validation_error', 'a member no longer exists');
    const added = await store.addMembers(tx, id, unique);
    await deps.safety.markRequests(tx, id, me, added);
    if (info.members + added.length > max) throw new AppError(422, 'validation_error', `a group has at most ${max} members`);
  });
  return announceAndReload(deps, me, id);
}

/**
 * Removes a member from a group (see {@link canRemoveMember}; anyone may leave) and tells
 * everyone who was a member before.
 * @param deps conversation store, notifier
 * @param me the caller
 * @param id the group
 * @param userId the member to remove
 * @throws {NotFoundError} `conversation` or `member`; {@link AppError} `validation_error`; {@link ForbiddenError}
 */
export async function removeGroupMember(deps: ChatDeps, me: string, id: string, userId: string): Promise<void> {
  const store = deps.conversations;
  const before = await deps.transact(async (tx) => {
    const role = await store.roleOf(tx, id, me);
    if (!role) throw notFound();
    const info = await store.conversationInfo(tx, id);
    if (!info || info.kind !== 'group') throw new AppError(400, 'validation_error', 'direct and self conversations have fixed members');
    const targetRole = await store.roleOf(tx, id, userId);
    if (!targetRole) throw new NotFoundError('member');
    if (!canRemoveMember(role, targetRole, me === userId)) throw new ForbiddenError('not allowed to remove this member');
    const members = await store.memberIds(tx, id);
    await store.removeMember(tx, id, userId);
    return members;
  });
  deps.notifier.notifyUsers(before, 'conversation:updated', { conversationId: id });
}

/**
 * Changes a member's role (owner only; groups only: direct and self conversations have fixed roles).
 * @param deps conversation store, notifier
 * @param me the caller
 * @param id the group
 * @param userId the member
 * @param role `admin` or `member`
 * @returns the conversation after the change
 * @throws {NotFoundError} `conversation` or `member`; {@link AppError} `validation_error` not a group; {@link ForbiddenError}
 */
export async function setMemberRole(deps: ChatDeps, me: string, id: string, userId: string, role: 'admin' | 'member'): Promise<ConversationRow> {
  const store = deps.conversations;
  await deps.transact(async (tx) => {
    const mine = await store.roleOf(tx, id, me);
    if (!mine) throw notFound();
    const info = await store.conversationInfo(tx, id);
    if (info?.kind !== 'group') throw new AppError(400, 'validation_error', 'only group members have roles to change');
    if (mine !== 'owner') throw new ForbiddenError('only the owner can change roles');
    if (!(await store.setRole(tx, id, userId, role))) throw new NotFoundError('member');
  });
  return announceAndReload(deps, me, id);
}

async function announceAndReload(deps: ChatDeps, me: string, id: string): Promise<ConversationRow> {
  deps.notifier.notifyUsers(await deps.conversations.memberIds(deps.db, id), 'conversation:updated', { conversationId: id });
  return (await deps.conversations.findForMember(deps.db, id, me)) as ConversationRow;
}
