import type { EntityManager } from 'typeorm';

/** What notification-service knows about a user (copied from user-service events). */
export interface KnownUser {
  userId: string;
  email: string;
  username: string;
  displayName: string;
  emailVerified: boolean;
  welcomedAt: Date | null;
}

/** Facts an event carries about a user; absent fields keep their stored value. */
export interface UserFacts {
  userId: string;
  email: string;
  username?: string;
  displayName?: string;
  emailVerified?: boolean;
  /** The event's occurredAt: only facts at least as new as the stored ones are applied. */
  at: string;
}

interface Row {
  user_id: string;
  email: string;
  username: string;
  display_name: string;
  email_verified: boolean;
  welcomed_at: Date | null;
}

const toUser = (r: Row): KnownUser => ({
  userId: r.user_id,
  email: r.email,
  username: r.username,
  displayName: r.display_name,
  emailVerified: r.email_verified,
  welcomedAt: r.welcomed_at,
});

/**
 * Reads a user, locking the row for the rest of the transaction when asked.
 * @param m transaction manager
 * @param userId the user
 * @param lock take a row lock (serialises the welcome decision)
 * @returns the user or undefined
 */
export async function findUser(m: EntityManager, userId: string, lock = false): Promise<KnownUser | undefined> {
  const rows = (await m.query(
    `SELECT user_id, email, username, display_name, email_verified, welcomed_at FROM notify.users WHERE user_id = $1${lock ? ' FOR UPDATE' : ''}`,
    [userId],
  )) as Row[];
  return rows[0] ? toUser(rows[0]) : undefined;
}

/**
 * Reads display names of several users.
 * @param m manager
 * @param userIds ids
 * @returns id -> display name (unknown ids are absent)
 */
export async function displayNames(m: EntityManager, userIds: readonly string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = (await m.query(`SELECT user_id, display_name FROM notify.users WHERE user_id = ANY($1::uuid[])`, [userIds])) as Row[];
  return new Map(rows.map((r) => [r.user_id, r.display_name]));
}

/**
 * Inserts or updates a user from an event's facts, unless newer facts are already stored.
 * @param m transaction manager
 * @param facts what the event says
 * @returns the row after the change and whether the address just became verified
 */
export async function applyUserFacts(m: EntityManager, facts: UserFacts): Promise<{ user: KnownUser; becameVerified: boolean }> {
  const before = await findUser(m, facts.userId, true);
  // Newer facts win; an older event may still fill in a name we never had (new_login carries
  // no username, and user.registered can arrive after it through another queue).
  const rows = (await m.query(
    `INSERT INTO notify.users AS u (user_id, email, username, display_name, email_verified, facts_at)
     VALUES ($1, $2, COALESCE($3, ''), COALESCE($4, ''), COALESCE($5, false), $6)
     ON CONFLICT (user_id) DO UPDATE SET
       email = CASE WHEN u.facts_at <= EXCLUDED.facts_at THEN EXCLUDED.email ELSE u.email END,
       username = CASE WHEN u.facts_at <= EXCLUDED.facts_at OR u.username = '' THEN COALESCE($3, u.username) ELSE u.username END,
       display_name = CASE WHEN u.facts_at <= EXCLUDED.facts_at OR u.display_name = '' THEN COALESCE($4, u.display_name) ELSE u.display_name END,
       email_verified = CASE WHEN u.facts_at <= EXCLUDED.facts_at THEN COALESCE($5, u.email_verified) ELSE u.email_verified END,
       facts_at = GREATEST(u.facts_at, EXCLUDED.facts_at),
       updated_at = now()
     RETURNING user_id, email, username, display_name, email_verified, welcomed_at`,
    [facts.userId, facts.email, facts.username ?? null, facts.displayName ?? null, facts.emailVerified ?? null, facts.at],
  )) as Row[];
  const after = rows[0] ? toUser(rows[0]) : before;
  if (!after) throw new Error('user row vanished during upsert');
  return { user: after, becameVerified: after.emailVerified && !(before?.emailVerified ?? false) };
}

/**
 * Records that the welcome mail went out (it is sent once per user).
 * @param m transaction manager
 * @param userId the user
 */
export async function markWelcomed(m: EntityManager, userId: string): Promise<void> {
  await m.query(`UPDATE notify.users SET welcomed_at = now() WHERE user_id = $1`, [userId]);
}

/**
 * Forgets a user entirely: profile copy, preferences, pending digests (as recipient), and the
 * personal data in sent-mail rows (user id and recipient hash; kind and time stay for stats).
 * Digest items where the user was the sender stay counted for their recipients but lose the
 * link to a name (the name is gone with the users row).
 * @param m transaction manager
 * @param userId the user
 */
export async function forgetUser(m: EntityManager, userId: string): Promise<void> {
  await m.query(`DELETE FROM notify.digest_items WHERE user_id = $1`, [userId]);
  await m.query(`DELETE FROM notify.digests WHERE user_id = $1`, [userId]);
  await m.query(`DELETE FROM notify.preferences WHERE user_id = $1`, [userId]);
  await m.query(`DELETE FROM notify.users WHERE user_id = $1`, [userId]);
  await m.query(`UPDATE notify.sent_mail SET user_id = NULL, recipient_hash = NULL WHERE user_id = $1`, [userId]);
}
