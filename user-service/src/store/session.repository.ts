import type { EntityManager } from 'typeorm';
import { SCHEMA } from './schema.js';

const S = `"${SCHEMA}".sessions`;
const R = `"${SCHEMA}".refresh_tokens`;

/** A login session (refresh-token family) as listed to its owner. */
export interface Session {
  id: string;
  userId: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  userAgent: string;
  ip: string;
  revokedAt: Date | null;
}

interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  user_agent: string;
  ip: string;
  revoked_at: Date | null;
}

const toSession = (r: SessionRow): Session => ({
  id: r.id,
  userId: r.user_id,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  expiresAt: r.expires_at,
  userAgent: r.user_agent,
  ip: r.ip,
  revokedAt: r.revoked_at,
});

/**
 * Starts a session with its first refresh token.
 * @param m manager
 * @param s ids, digest, expiry and client description
 * @returns the session's `created_at`: its login time (the access tokens' `auth_time`)
 */
export async function insertSession(
  m: EntityManager,
  s: { id: string; userId: string; tokenId: string; tokenDigest: Buffer; expiresAt: Date; userAgent: string; ip: string },
): Promise<Date> {
  const created = (await m.query(`INSERT INTO ${S} (id, user_id, expires_at, user_agent, ip) VALUES ($1, $2, $3, $4, $5) RETURNING created_at`, [
    s.id,
    s.userId,
    s.expiresAt,
    s.userAgent,
    s.ip,
  ])) as { created_at: Date }[];
  await m.query(`INSERT INTO ${R} (id, session_id, user_id, token_digest, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
    s.tokenId,
    s.id,
    s.userId,
    s.tokenDigest,
    s.expiresAt,
  ]);
  const at = created[0]?.created_at;
  if (!at) throw new Error('session insert returned no row');
  return at;
}

/** A refresh token row, locked for the rotation decision. */
export interface RefreshTokenRow {
  id: string;
  sessionId: string;
  userId: string;
  expiresAt: Date;
  usedAt: Date | null;
  sessionRevokedAt: Date | null;
  sessionExpiresAt: Date;
  /** The session's login time (kept across refreshes: the access tokens' `auth_time`). */
  sessionCreatedAt: Date;
}

/**
 * Finds a refresh token by digest and locks it (and so serialises concurrent rotations).
 * @param m transaction manager
 * @param digest SHA-256 of the presented token
 * @returns the row or undefined
 */
export async function findRefreshTokenForUpdate(m: EntityManager, digest: Buffer): Promise<RefreshTokenRow | undefined> {
  const rows = (await m.query(
    `SELECT r.id, r.session_id, r.user_id, r.expires_at, r.used_at, s.revoked_at AS session_revoked_at, s.expires_at AS session_expires_at,
            s.created_at AS session_created_at
     FROM ${R} r JOIN ${S} s ON s.id = r.session_id WHERE r.token_digest = $1 FOR UPDATE OF r, s`,
    [digest],
  )) as { id: string; session_id: string; user_id: string; expires_at: Date; used_at: Date | null; session_revoked_at: Date | null; session_expires_at: Date; session_created_at: Date }[];
  const r = rows[0];
  return (
    r && {
      id: r.id,
      sessionId: r.session_id,
      userId: r.user_id,
      expiresAt: r.expires_at,
      usedAt: r.used_at,
      sessionRevokedAt: r.session_revoked_at,
      sessionExpiresAt: r.session_expires_at,
      sessionCreatedAt: r.session_created_at,
    }
  );
}

/**
 * Rotates: marks the old token used and adds its child in the same family.
 * @param m transaction manager
 * @param old the token being used
 * @param next the new token's id, digest and expiry
 */
export async function rotateRefreshToken(
  m: EntityManager,
  old: RefreshTokenRow,
  next: { id: string; digest: Buffer; expiresAt: Date },
): Promise<void> {
  await m.query(`UPDATE ${R} SET used_at = now() WHERE id = $1`, [old.id]);
  await m.query(`INSERT INTO ${R} (id, session_id, user_id, token_digest, parent_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
    next.id,
    old.sessionId,
    old.userId,
    next.digest,
    old.id,
    next.expiresAt,
  ]);
  await m.query(`UPDATE ${S} SET last_used_at = now() WHERE id = $1`, [old.sessionId]);
}

/**
 * Revokes one session (its whole refresh-token family).
 * @param m manager
 * @param sessionId the family
 * @param reason why (logout, reuse_detected, ...)
 * @param userId when given, only a session of this user is revoked
 * @returns whether a live session was revoked
 */
export async function revokeSession(m: EntityManager, sessionId: string, reason: string, userId?: string): Promise<boolean> {
  const [rows] = (await m.query(
    `UPDATE ${S} SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR user_id = $3)
     RETURNING id`,
    [sessionId, reason, userId ?? null],
  )) as [unknown[], number];
  return rows.length > 0;
}

/**
 * Revokes every live session of a user.
 * @param m manager
 * @param userId the user
 * @param reason why
 * @param exceptSessionId keep this one (e.g. the session changing the password)
 * @returns the revoked session ids
 */
export async function revokeAllSessions(m: EntityManager, userId: string, reason: string, exceptSessionId?: string): Promise<string[]> {
  const [rows] = (await m.query(
    `UPDATE ${S} SET revoked_at = now(), revoked_reason = $2
     WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3) RETURNING id`,
    [userId, reason, exceptSessionId ?? null],
  )) as [{ id: string }[], number];
  return rows.map((r) => r.id);
}

/**
 * Whether a session is live (user-service's own routes reject access tokens of revoked sessions).
 * @param m manager
 * @param sessionId session id from the token's `sid`
 * @param userId user id from the token's `sub`
 * @returns true when live
 */
export async function isSessionLive(m: EntityManager, sessionId: string, userId: string): Promise<boolean> {
  const rows = (await m.query(`SELECT 1 FROM ${S} WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()`, [
    sessionId,
    userId,
  ])) as unknown[];
  return rows.length > 0;
}

/**
 * Sessions of a user, newest first.
 * @param m manager
 * @param userId the user
 * @param includeRevoked also list ended sessions (data export)
 * @returns sessions
 */
export async function listSessions(m: EntityManager, userId: string, includeRevoked = false): Promise<Session[]> {
  const rows = (await m.query(
    `SELECT id, user_id, created_at, last_used_at, expires_at, user_agent, ip, revoked_at FROM ${S}
     WHERE user_id = $1 ${includeRevoked ? '' : 'AND revoked_at IS NULL AND expires_at > now()'} ORDER BY created_at DESC LIMIT 200`,
    [userId],
  )) as SessionRow[];
  return rows.map(toSession);
}

/**
 * Seconds since the session's login (refreshes do not make it younger).
 * @param m manager
 * @param sessionId the session
 * @returns age in seconds, or undefined when unknown
 */
export async function sessionAgeSeconds(m: EntityManager, sessionId: string): Promise<number | undefined> {
  const rows = (await m.query(`SELECT EXTRACT(EPOCH FROM now() - created_at)::float AS age FROM ${S} WHERE id = $1`, [sessionId])) as { age: number }[];
  return rows[0]?.age;
}
