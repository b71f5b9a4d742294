import type { ChatDeps } from './deps.js';
import type { Db } from './ports.js';

/**
 * Whether the account was deleted (an access token outlives its account by up to 15 minutes,
 * so every request and handshake asks). One primary-key lookup, never cached.
 * @param deps accounts store
 * @param userId the caller
 * @returns true when deleted
 */
export function isAccountDeleted(deps: ChatDeps, userId: string): Promise<boolean> {
  return deps.accounts.isDeletedUser(deps.db, userId);
}

/**
 * `user.deleted.v1`, the transactional part: forgets everything held about the user (devices,
 * keys, backup, mailboxes, memberships, attachment rows). Runs in the consumer's inbox
 * transaction (so it is applied once per event); call {@link afterUserForgotten} after the commit.
 * @param deps stores
 * @param tx the inbox transaction
 * @param userId the deleted user
 * @returns storage keys of the attachments whose rows were deleted
 */
export async function forgetDeletedUser(deps: ChatDeps, tx: Db, userId: string): Promise<string[]> {
  const keys = (await deps.attachments.deleteAttachments(tx, { ownerUserId: userId })).map((a) => a.storageKey);
  await deps.accounts.forgetUser(tx, userId);
  return keys;
}

/**
 * `user.deleted.v1`, after the commit: removes the attachment files and ends the user's sockets.
 * @param deps blobs, notifier
 * @param userId the deleted user
 * @param blobKeys from {@link forgetDeletedUser}
 */
export async function afterUserForgotten(deps: ChatDeps, userId: string, blobKeys: readonly string[]): Promise<void> {
  for (const key of blobKeys) await deps.blobs.remove(key).catch(() => undefined);
  deps.notifier.notifyUsers([userId], 'session:expired');
  deps.notifier.disconnectUser(userId);
}

/**
 * Retention: expires envelopes older than MESSAGE_RETENTION_DAYS (and the dedupe rows of that
 * age), request budgets whose window has passed, and attachments past their expiry, then their
 * files. No surrounding transaction: each
 * batch commits on its own; the job holds the connection (and its advisory lock).
 * @param deps config, stores, blobs
 * @param db a handle outside any transaction
 * @returns envelopes and attachments expired
 */
export async function expireOldData(deps: ChatDeps, db: Db): Promise<{ envelopes: number; attachments: number }> {
  const cutoff = new Date(Date.now() - deps.config.MESSAGE_RETENTION_DAYS * 86_400_000);
  const envelopes = await deps.mailbox.expireMailbox(db, cutoff);
  // A second window of margin: a row the send path just found (and is about to lock) is never
  // swept from under it (its passed window is restarted before the send statement runs).
  await deps.mailbox.expireRequestBudgets(db, new Date(Date.now() - 2 * deps.config.MAILBOX_REQUEST_WINDOW_S * 1000));
  const gone = await deps.attachments.deleteAttachments(db, { expiredBefore: new Date() });
  for (const a of gone) await deps.blobs.remove(a.storageKey).catch(() => undefined);
  if (envelopes || gone.length) deps.log.info({ envelopes, attachments: gone.length }, 'retention: expired');
  return { envelopes, attachments: gone.length };
}
