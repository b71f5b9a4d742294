import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { UnauthorizedError, withTransaction } from '@cipherchat/service-kit';
import { newSecretToken, tokenDigest } from '../domain/secret-token.js';
import type { User } from '../domain/user.js';
import { addAudit, type RequestMeta } from '../store/audit.repository.js';
import {
  findRefreshTokenForUpdate,
  insertSession,
  revokeAllSessions,
  revokeSession,
  rotateRefreshToken,
} from '../store/session.repository.js';
import { findUserById } from '../store/user.repository.js';
import type { UseCaseDeps } from './deps.js';

/**
 * Puts ended sessions (or, for account deletion, the whole user) on the revocation list that
 * chat-service checks, so their sockets are cut and their access tokens refused within seconds.
 * Call after the revoking transaction committed. Best effort: the database revocation stands
 * either way (refresh and user-service refuse the session at once); if Redis is down, other
 * services accept the access token until it expires, which is logged.
 * @param deps use case deps
 * @param sessionIds the ended sessions
 * @param userId with `everything`, the user whose every token is refused
 */
export async function announceRevocation(
  deps: UseCaseDeps,
  sessionIds: readonly string[],
  userId?: string,
): Promise<void> {
  try {
    await deps.revocations.revokeSessions(sessionIds);
    if (userId) await deps.revocations.revokeUser(userId);
  } catch (err) {
    deps.logger.error(
      { err: (err as Error).message, sessions: sessionIds.length },
      'revocation list unavailable; ended sessions keep their access tokens until they expire',
    );
  }
}

/** Tokens handed to a client after login, registration or refresh. */
export interface IssuedTokens {
  /** ES256 JWT. */
  accessToken: string;
  accessTokenExpiresAt: Date;
  /** Opaque refresh token (only its digest is stored). */
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  /** Session (family) id. */
  sessionId: string;
}

/**
 * Opens a session inside the caller's transaction and returns its first refresh token.
 * @param m transaction manager
 * @param deps use case deps
 * @param userId the user
 * @param meta client ip and user agent (listed in "my sessions")
 * @returns session id, refresh token and its expiry, and the login time (`auth_time`, epoch seconds)
 */
export async function openSession(
  m: EntityManager,
  deps: UseCaseDeps,
  userId: string,
  meta: RequestMeta,
): Promise<OpenedSession> {
  const sessionId = randomUUID();
  const refreshToken = newSecretToken();
  const refreshTokenExpiresAt = new Date(Date.now() + deps.config.REFRESH_TOKEN_TTL_S * 1000);
  const createdAt = await insertSession(m, {
    id: sessionId,
    userId,
    tokenId: randomUUID(),
    tokenDigest: tokenDigest(refreshToken),
    expiresAt: refreshTokenExpiresAt,
    userAgent: meta.userAgent,
    ip: meta.ip,
  });
  return { sessionId, refreshToken, refreshTokenExpiresAt, authTime: epochSeconds(createdAt) };
}

/** A session as handed from {@link openSession} or a refresh to {@link completeTokens}. */
export interface OpenedSession {
  sessionId: string;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  /** Epoch seconds of the login that started the session (never moved by a refresh). */
  authTime: number;
}

const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * Signs the access token for a session that was just committed.
 * @param deps use case deps
 * @param userId the user
 * @param session what {@link openSession} returned (or a refresh's rotation)
 * @returns the full token set
 */
export async function completeTokens(
  deps: UseCaseDeps,
  userId: string,
  session: OpenedSession,
): Promise<IssuedTokens> {
  const access = await deps.signer.sign(userId, session.sessionId, session.authTime);
  return {
    sessionId: session.sessionId,
    refreshToken: session.refreshToken,
    refreshTokenExpiresAt: session.refreshTokenExpiresAt,
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt,
  };
}

/**
 * Rotates a refresh token. A token that was already used (or belongs to a revoked session) is
 * the sign of a stolen copy: the whole family is revoked and both holders must log in again.
 * @param deps use case deps
 * @param refreshToken the presented token
 * @param meta client
 * @returns the user and new tokens
 * @throws {UnauthorizedError} `invalid_token` (unknown, expired, reused or revoked)
 */
export async function refreshSession(
  deps: UseCaseDeps,
  refreshToken: string,
  meta: RequestMeta,
): Promise<{ user: User; tokens: IssuedTokens }> {
  const outcome = await withTransaction(deps.ds, async (m) => {
    const row = await findRefreshTokenForUpdate(m, tokenDigest(refreshToken));
    if (!row) return { kind: 'unknown' as const };
    if (row.usedAt || row.sessionRevokedAt) {
      // Reuse: revoke the family in this transaction, commit, then refuse.
      const revoked = await revokeSession(m, row.sessionId, 'refresh_reuse_detected');
      await addAudit(m, row.userId, 'refresh_reuse_detected', meta, {
        sessionId: row.sessionId,
        familyRevoked: revoked,
      });
      return { kind: 'reused' as const, sessionId: row.sessionId };
    }
    if (row.expiresAt.getTime() <= Date.now() || row.sessionExpiresAt.getTime() <= Date.now())
      return { kind: 'expired' as const };
    const user = await findUserById(m, row.userId);
    if (!user) return { kind: 'unknown' as const };
    const next = { id: randomUUID(), token: newSecretToken() };
    const expiresAt = new Date(
      Math.min(Date.now() + deps.config.REFRESH_TOKEN_TTL_S * 1000, row.sessionExpiresAt.getTime()),
    );
    await rotateRefreshToken(m, row, { id: next.id, digest: tokenDigest(next.token), expiresAt });
    return {
      kind: 'ok' as const,
      user,
      sessionId: row.sessionId,
      refreshToken: next.token,
      expiresAt,
      authTime: epochSeconds(row.sessionCreatedAt),
    };
  });
  if (outcome.kind === 'reused') await announceRevocation(deps, [outcome.sessionId]);
  if (outcome.kind !== 'ok') {
    const message =
      outcome.kind === 'reused'
        ? 'refresh token was already used; the session has been ended'
        : 'invalid or expired refresh token';
    throw new UnauthorizedError(message, 'invalid_token');
  }
  const tokens = await completeTokens(deps, outcome.user.id, {
    sessionId: outcome.sessionId,
    refreshToken: outcome.refreshToken,
    refreshTokenExpiresAt: outcome.expiresAt,
    // the session's login time, not now: a refresh is not a fresh login
    authTime: outcome.authTime,
  });
  return { user: outcome.user, tokens };
}

/**
 * Ends one session (logout). Idempotent: an unknown or already revoked session is fine.
 * @param deps use case deps
 * @param target the refresh token or the session id (from the access token)
 * @param meta client
 */
export async function logout(
  deps: UseCaseDeps,
  target: { refreshToken?: string; sessionId?: string; userId?: string },
  meta: RequestMeta,
): Promise<void> {
  const ended = await withTransaction(deps.ds, async (m) => {
    let sessionId = target.sessionId;
    let userId = target.userId;
    if (target.refreshToken) {
      const row = await findRefreshTokenForUpdate(m, tokenDigest(target.refreshToken));
      if (row) {
        sessionId = row.sessionId;
        userId = row.userId;
      }
    }
    if (!sessionId || !userId) return undefined;
    if (await revokeSession(m, sessionId, 'logout', userId)) {
      await addAudit(m, userId, 'session_revoked', meta, { sessionId, reason: 'logout' });
    }
    return sessionId;
  });
  // listed even if it was already ended: a retried logout repairs a missed announcement
  if (ended) await announceRevocation(deps, [ended]);
}

/**
 * Ends every session of a user ("log out everywhere") or every other one.
 * @param deps use case deps
 * @param userId the user
 * @param meta client
 * @param exceptSessionId keep this session
 * @returns how many sessions were ended
 */
export async function logoutAll(
  deps: UseCaseDeps,
  userId: string,
  meta: RequestMeta,
  exceptSessionId?: string,
): Promise<number> {
  const ids = await withTransaction(deps.ds, async (m) => {
    const revoked = await revokeAllSessions(
      m,
      userId,
      exceptSessionId ? 'logout_others' : 'logout_all',
      exceptSessionId,
    );
    if (revoked.length)
      await addAudit(m, userId, 'session_revoked', meta, {
        sessionIds: revoked,
        reason: exceptSessionId ? 'logout_others' : 'logout_all',
      });
    return revoked;
  });
  await announceRevocation(deps, ids);
  return ids.length;
}

/**
 * Ends one of my sessions by id (from the session list).
 * @param deps use case deps
 * @param userId the owner
 * @param sessionId the session
 * @param meta client
 * @returns whether it was live
 */
export async function revokeMySession(
  deps: UseCaseDeps,
  userId: string,
  sessionId: string,
  meta: RequestMeta,
): Promise<boolean> {
  const ok = await withTransaction(deps.ds, async (m) => {
    const live = await revokeSession(m, sessionId, 'revoked_by_user', userId);
    if (live)
      await addAudit(m, userId, 'session_revoked', meta, { sessionId, reason: 'revoked_by_user' });
    return live;
  });
  if (ok) await announceRevocation(deps, [sessionId]);
  return ok;
}
