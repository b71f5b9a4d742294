import type {
  DataExport,
  DirectoryPage,
  DirectoryQuery,
  UpdateMeBody,
} from '@cipherchat/contracts';
import {
  ConflictError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
  addToOutbox,
  withTransaction,
} from '@cipherchat/service-kit';
import { decodeDirectoryCursor, encodeDirectoryCursor } from '../domain/directory-cursor.js';
import { toPublicUser, type User } from '../domain/user.js';
import { addAudit, listAudit, type RequestMeta } from '../store/audit.repository.js';
import { invalidateOneTimeTokens } from '../store/one-time-token.repository.js';
import { listSessions, revokeAllSessions, type Session } from '../store/session.repository.js';
import { eraseUser, findUserById, searchUsers, updateProfile } from '../store/user.repository.js';
import { SCHEMA } from '../store/schema.js';
import type { UseCaseDeps } from './deps.js';
import { announceRevocation } from './sessions.js';

/**
 * The logged-in user.
 * @param deps use case deps
 * @param userId from the access token
 * @returns the user
 */
export async function getMe(deps: UseCaseDeps, userId: string): Promise<User> {
  const user = await findUserById(deps.ds.manager, userId);
  if (!user) throw new UnauthorizedError();
  return user;
}

/**
 * Updates display name and/or username and tells other services.
 * @param deps use case deps
 * @param userId the user
 * @param patch the changes
 * @param meta client
 * @returns the updated user
 * @throws {ConflictError} `username_taken`
 */
export async function updateMe(
  deps: UseCaseDeps,
  userId: string,
  patch: UpdateMeBody,
  meta: RequestMeta,
): Promise<User> {
  const result = await withTransaction(deps.ds, async (m) => {
    const updated = await updateProfile(m, userId, patch);
    if (updated === undefined || updated === 'username_taken') return updated;
    await addAudit(m, userId, 'profile_updated', meta, { fields: Object.keys(patch) });
    await addToOutbox(m, SCHEMA, {
      type: 'user.profile_updated.v1',
      aggregateId: userId,
      payload: {
        userId,
        email: updated.email,
        username: updated.username,
        displayName: updated.displayName,
        emailVerified: updated.emailVerifiedAt !== null,
      },
    });
    return updated;
  });
  if (result === 'username_taken')
    throw new ConflictError('this username is taken', 'username_taken');
  if (!result) throw new UnauthorizedError();
  deps.relay.kick();
  return result;
}

/**
 * Deletes the account: personal data erased, sessions and links ended, `user.deleted.v1` sent
 * so every service forgets the user.
 * @param deps use case deps
 * @param userId the user
 * @param meta client
 */
export async function deleteMe(
  deps: UseCaseDeps,
  userId: string,
  meta: RequestMeta,
): Promise<void> {
  const deleted = await withTransaction(deps.ds, async (m) => {
    if (!(await eraseUser(m, userId))) return undefined;
    const ended = await revokeAllSessions(m, userId, 'account_deleted');
    await invalidateOneTimeTokens(m, userId);
    await addAudit(m, userId, 'account_deleted', meta);
    await addToOutbox(m, SCHEMA, {
      type: 'user.deleted.v1',
      aggregateId: userId,
      payload: { userId },
    });
    return ended;
  });
  if (!deleted) throw new UnauthorizedError();
  // the whole user: every token of theirs is refused, whatever session it names
  await announceRevocation(deps, deleted, userId);
  deps.relay.kick();
}

/**
 * Builds the data export.
 * @param deps use case deps
 * @param userId the user
 * @returns the export
 */
export async function exportMe(deps: UseCaseDeps, userId: string): Promise<DataExport> {
  const m = deps.ds.manager;
  const user = await getMe(deps, userId);
  const sessions = await listSessions(m, userId, true);
  return {
    exportedAt: new Date().toISOString(),
    profile: {
      id: user.id,
      email: user.email,
      username: user.username,
      displayName: user.displayName,
      emailVerified: user.emailVerifiedAt !== null,
      createdAt: user.createdAt.toISOString(),
    },
    sessions: sessions.map(presentSession),
    auditLog: await listAudit(m, userId),
  };
}

/**
 * Presents a session to its owner.
 * @param s the session
 * @returns JSON-friendly view
 */
export function presentSession(s: Session): DataExport['sessions'][number] {
  return {
    id: s.id,
    createdAt: s.createdAt.toISOString(),
    lastUsedAt: s.lastUsedAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    userAgent: s.userAgent,
    ip: s.ip,
    revokedAt: s.revokedAt?.toISOString() ?? null,
  };
}

/**
 * My live sessions (devices).
 * @param deps use case deps
 * @param userId the user
 * @returns sessions, newest first
 */
export async function mySessions(deps: UseCaseDeps, userId: string): Promise<Session[]> {
  return listSessions(deps.ds.manager, userId);
}

/**
 * Directory search; never returns emails.
 * @param deps use case deps
 * @param q validated query
 * @returns a page
 */
export async function searchDirectory(
  deps: UseCaseDeps,
  q: DirectoryQuery,
): Promise<DirectoryPage> {
  const after = q.cursor === undefined ? undefined : decodeDirectoryCursor(q.cursor);
  if (q.cursor !== undefined && !after)
    throw new ValidationError('invalid query: cursor is malformed', [
      { path: 'cursor', message: 'malformed cursor' },
    ]);
  const rows = await searchUsers(deps.ds.manager, q.query, q.limit, after);
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    users: page.map(toPublicUser),
    nextCursor:
      rows.length > q.limit && last
        ? encodeDirectoryCursor({ rank: last.rank, username: last.username })
        : null,
  };
}

/**
 * One user's public profile.
 * @param deps use case deps
 * @param id user id
 * @returns the public view
 * @throws {NotFoundError}
 */
export async function getPublicUser(deps: UseCaseDeps, id: string) {
  const user = await findUserById(deps.ds.manager, id);
  if (!user) throw new NotFoundError('user');
  return toPublicUser(user);
}
