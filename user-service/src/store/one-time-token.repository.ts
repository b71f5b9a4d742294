import type { EntityManager } from 'typeorm';
import { SCHEMA } from './schema.js';

const T = `"${SCHEMA}".one_time_tokens`;

/** What a one-time token is for. */
export type OneTimeTokenKind = 'verify_email' | 'password_reset';

/**
 * Stores a one-time token's digest (never the token).
 * @param m manager
 * @param t id, user, kind, digest, expiry
 */
export async function insertOneTimeToken(
  m: EntityManager,
  t: { id: string; userId: string; kind: OneTimeTokenKind; digest: Buffer; expiresAt: Date },
): Promise<void> {
  await m.query(`INSERT INTO ${T} (id, user_id, kind, token_digest, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
    t.id,
    t.userId,
    t.kind,
    t.digest,
    t.expiresAt,
  ]);
}

/**
 * The user a valid (unused, unexpired) token belongs to, without using it up.
 * @param m manager
 * @param kind token kind
 * @param digest SHA-256 of the presented token
 * @returns the user id or undefined
 */
export async function peekOneTimeToken(m: EntityManager, kind: OneTimeTokenKind, digest: Buffer): Promise<string | undefined> {
  const rows = (await m.query(
    `SELECT user_id FROM ${T} WHERE token_digest = $1 AND kind = $2 AND used_at IS NULL AND expires_at > now()`,
    [digest, kind],
  )) as { user_id: string }[];
  return rows[0]?.user_id;
}

/**
 * Uses a token up atomically: of two concurrent uses, one wins.
 * @param m transaction manager
 * @param kind token kind
 * @param digest SHA-256 of the presented token
 * @returns the user id, or undefined when the token is unknown, used or expired
 */
export async function consumeOneTimeToken(m: EntityManager, kind: OneTimeTokenKind, digest: Buffer): Promise<string | undefined> {
  const [rows] = (await m.query(
    `UPDATE ${T} SET used_at = now() WHERE token_digest = $1 AND kind = $2 AND used_at IS NULL AND expires_at > now() RETURNING user_id`,
    [digest, kind],
  )) as [{ user_id: string }[], number];
  return rows[0]?.user_id;
}

/**
 * Invalidates every open token of a kind for a user (after a reset, older links stop working).
 * @param m manager
 * @param userId the user
 * @param kind which kind (all kinds when omitted)
 */
export async function invalidateOneTimeTokens(m: EntityManager, userId: string, kind?: OneTimeTokenKind): Promise<void> {
  await m.query(`UPDATE ${T} SET used_at = now() WHERE user_id = $1 AND used_at IS NULL AND ($2::text IS NULL OR kind = $2)`, [
    userId,
    kind ?? null,
  ]);
}
