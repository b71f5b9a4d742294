import type { EntityManager } from 'typeorm';
import { q } from './sql.js';
import { removeMember } from './conversation.repository.js';

/**
 * Forgets a deleted user: devices (and their prekeys), account and identity history, backup,
 * every mailbox addressed to them, dedupe rows of what they sent, and their memberships (an
 * owner's groups get a new owner; a direct conversation keeps the other member's side).
 * The id is remembered in `deleted_users` so it cannot be added to conversations again.
 * Must run in a transaction.
 * @param m transaction manager
 * @param userId the deleted user
 */
export async function forgetUser(m: EntityManager, userId: string): Promise<void> {
  await q(m, `INSERT INTO chat.deleted_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, [userId]);
  await q(m, `DELETE FROM chat.mailbox WHERE recipient_user = $1`, [userId]);
  await q(m, `DELETE FROM chat.accounts WHERE user_id = $1`, [userId]); // cascades to devices and prekeys
  await q(m, `DELETE FROM chat.identity_changes WHERE user_id = $1`, [userId]);
  await q(m, `DELETE FROM chat.backups WHERE user_id = $1`, [userId]);
  await q(m, `DELETE FROM chat.messages WHERE sender_user = $1`, [userId]);
  const convs = (await q(m, `SELECT conversation_id FROM chat.conversation_members WHERE user_id = $1`, [userId])) as { conversation_id: string }[];
  for (const c of convs) await removeMember(m, c.conversation_id, userId);
}
