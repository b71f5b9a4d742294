import { randomUUID } from 'node:crypto';
import type { PrivacySettings, ReportBody } from '@cipherchat/contracts';
import { DEFAULT_PRIVACY } from '@cipherchat/contracts';
import { ConflictError, NotFoundError, ValidationError } from '@cipherchat/service-kit/errors';
import type { ChatDeps } from './deps.js';
import { endPresenceNow, sharePresenceNow } from './presence.js';

// Message requests (accept, decline), blocks, privacy settings and reports (issue 15).

const notFound = () => new NotFoundError('conversation');

/**
 * Accepts a conversation (idempotent): it becomes a normal one for the caller, and presence
 * starts at once with its members who accepted it too (pushed both ways).
 * @param deps safety and conversation stores, presence, notifier
 * @param me the caller
 * @param id the conversation
 * @throws {NotFoundError} when the caller is not a member
 */
export async function acceptConversation(deps: ChatDeps, me: string, id: string): Promise<void> {
  const before = await deps.safety.stateOf(deps.db, id, me);
  if (before === null) throw notFound();
  if (before === 'accepted') return;
  await deps.safety.setState(deps.db, id, me, 'accepted');
  deps.notifier.notifyUsers([me], 'conversation:updated', { conversationId: id });
  await sharePresenceNow(deps, me, await deps.conversations.memberIds(deps.db, id));
}

/**
 * Declines a request (idempotent): the conversation leaves the caller's list and the server
 * quietly stores nothing more sent in it for them. The other members are not told (their sends
 * keep succeeding); what of it still waited in the caller's mailbox is dropped too. Only a request can be declined: an accepted conversation is left or its
 * people blocked instead.
 * @param deps safety store, notifier
 * @param me the caller
 * @param id the conversation
 * @throws {NotFoundError} when the caller is not a member; {@link ConflictError} when accepted
 */
export async function declineConversation(deps: ChatDeps, me: string, id: string): Promise<void> {
  const before = await deps.safety.stateOf(deps.db, id, me);
  if (before === null) throw notFound();
  if (before === 'declined') return;
  if (before === 'accepted')
    throw new ConflictError(
      'only a request can be declined: leave the conversation or block its members instead',
    );
  await deps.transact(async (tx) => {
    await deps.safety.setState(tx, id, me, 'declined');
    await deps.safety.dropWaiting(tx, me, { conversationId: id });
  });
  deps.notifier.notifyUsers([me], 'conversation:updated', { conversationId: id });
}

/**
 * Blocks a user (idempotent): the server quietly stores nothing they send for the caller (and
 * drops what still waited in the caller's mailbox), and presence stops at once both ways.
 * @param deps safety store, notifier
 * @param me the caller
 * @param userId whom to block
 * @throws {ValidationError} when blocking oneself
 */
export async function blockUser(deps: ChatDeps, me: string, userId: string): Promise<void> {
  if (userId === me) throw new ValidationError('you cannot block yourself');
  const shared = (await deps.safety.presenceContacts(deps.db, me, [userId])).length > 0;
  const added = await deps.transact(async (tx) => {
    const isNew = await deps.safety.addBlock(tx, me, userId);
    await deps.safety.dropWaiting(tx, me, { senderUserId: userId });
    return isNew;
  });
  if (added && shared) endPresenceNow(deps, me, userId);
}

/**
 * Unblocks a user (idempotent); presence starts again at once if they share it otherwise.
 * @param deps safety store, presence, notifier
 * @param me the caller
 * @param userId whom to unblock
 * @throws {ValidationError} for oneself
 */
export async function unblockUser(deps: ChatDeps, me: string, userId: string): Promise<void> {
  if (userId === me) throw new ValidationError('you cannot block yourself');
  if (await deps.safety.removeBlock(deps.db, me, userId))
    await sharePresenceNow(deps, me, [userId]);
}

/**
 * @param deps safety store
 * @param me the caller
 * @returns whom the caller blocked, most recent first
 */
export function listBlocks(deps: ChatDeps, me: string): Promise<string[]> {
  return deps.safety.listBlocks(deps.db, me);
}

/**
 * Reports a user to the operators (the reported person is not told), and optionally blocks
 * them. Only someone the caller shares a conversation with (in any state) can be reported.
 * @param deps safety store, notifier
 * @param me the caller
 * @param body the validated report
 * @param file whether to file the report (false: over the caller's report limit; a block is
 *   still made, first: no report limit keeps anyone from blocking)
 * @throws {ValidationError} reporting oneself; {@link NotFoundError} `user` when they share no
 *   conversation (or not the one named)
 */
export async function reportUser(deps: ChatDeps, me: string, body: ReportBody, file = true): Promise<void> {
  if (body.userId === me) throw new ValidationError('you cannot report yourself');
  if (!(await deps.safety.shareConversation(deps.db, me, body.userId, body.conversationId)))
    throw new NotFoundError('user');
  if (body.block) await blockUser(deps, me, body.userId);
  if (!file) return;
  const reportId = randomUUID();
  await deps.safety.insertReport(deps.db, reportId, me, body);
  deps.log.info({ reportId, reason: body.reason }, 'user reported');
}

/**
 * @param deps safety store
 * @param me the caller
 * @returns the caller's privacy settings (the defaults when never changed)
 */
export async function getPrivacy(deps: ChatDeps, me: string): Promise<PrivacySettings> {
  return (await deps.safety.getPrivacy(deps.db, me)) ?? DEFAULT_PRIVACY;
}

/**
 * Replaces the caller's privacy settings (`lastSeen` takes effect at once for presence; the
 * other two are honoured by the caller's clients). Every connected device of the caller is sent
 * `privacy:changed` with the new settings once they are stored, so the others stop sending what
 * was just turned off without waiting for a reconnection (where they read them again).
 * @param deps safety store, notifier
 * @param me the caller
 * @param settings the new settings
 * @returns the settings stored
 */
export async function putPrivacy(
  deps: ChatDeps,
  me: string,
  settings: PrivacySettings,
): Promise<PrivacySettings> {
  await deps.safety.putPrivacy(deps.db, me, settings);
  deps.notifier.notifyUsers([me], 'privacy:changed', settings);
  return settings;
}
