import type { EntityManager } from 'typeorm';
import type { AccountStore } from '../domain/ports.js';
import { q } from './sql.js';
import { removeMember } from './membership.repository.js';

/**
 * Forgets a deleted user: devices (and their prekeys), account and identity history, backup,
 * every mailbox addressed to them, dedupe rows of what they sent, their blocks (both ways),
 * privacy settings and the reports they made, and their memberships (an
 * owner's groups get a new owner; a direct conversation keeps the other member's side).
 * The id is remembered in `deleted_users` so it cannot be added to conversations again.
 * Must run in a transaction.
 * @param m transaction manager
 * @param userId the deleted user
 */
export async function forgetUser(m: EntityManager, userId: string): Promise<void> {
  await q(m, `INSERT INTO chat.deleted_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, [userId]);
  // Memberships first: removing one waits for message writes holding it (FOR KEY SHARE, see
  // storeMessages), so the mailbox delete below sees their envelopes, and the locks are taken
  // in the writer's order (memberships, then accounts): no deadlock with a concurrent send.
  const convs = (await q(m, `SELECT conversation_id FROM chat.conversation_members WHERE user_id = $1`, [userId])) as { conversation_id: string }[];
  for (const c of convs) await removeMember(m, c.conversation_id, userId);
  await q(m, `DELETE FROM chat.mailbox WHERE recipient_user = $1`, [userId]);
  await q(m, `DELETE FROM chat.mailbox_held WHERE recipient_user = $1`, [userId]);
  await q(m, `DELETE FROM chat.mailbox_held_from WHERE recipient_user = $1 OR sender_user = $1`, [userId]);
  await q(m, `DELETE FROM chat.accounts WHERE user_id = $1`, [userId]); // cascades to devices and prekeys
  await q(m, `DELETE FROM chat.identity_changes WHERE user_id = $1`, [userId]);
  await q(m, `DELETE FROM chat.backups WHERE user_id = $1`, [userId]);
  await q(m, `DELETE FROM chat.messages WHERE sender_user = $1`, [userId]);
  await q(m, `DELETE FROM chat.blocks WHERE blocker_id = $1 OR blocked_id = $1`, [userId]);
  await q(m, `DELETE FROM chat.privacy_settings WHERE user_id = $1`, [userId]);
  await q(m, `DELETE FROM chat.reports WHERE reporter_id = $1`, [userId]);
}

/**
 * Whether `user.deleted.v1` was received for this id (one primary-key lookup). Checked on every
 * authenticated request and handshake: an access token stays valid for up to 15 minutes after
 * the account is deleted, and must not bring the account back.
 * @param m manager
 * @param userId the caller
 * @returns true when the user was deleted
 */
export async function isDeletedUser(m: EntityManager, userId: string): Promise<boolean> {
  const rows = await q(m, `SELECT 1 FROM chat.deleted_users WHERE user_id = $1`, [userId]);
  return rows.length > 0;
}

/** The account port of the use cases. */
export const accountStore: AccountStore = { isDeletedUser, forgetUser };
