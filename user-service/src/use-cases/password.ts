import {
  UnauthorizedError,
  ValidationError,
  withTransaction,
  NotFoundError,
  addToOutbox,
} from '@cipherchat/service-kit';
import type { EntityManager } from 'typeorm';
import { tokenDigest } from '../domain/secret-token.js';
import type { User } from '../domain/user.js';
import { addAudit, type RequestMeta } from '../store/audit.repository.js';
import {
  consumeOneTimeToken,
  invalidateOneTimeTokens,
  peekOneTimeToken,
} from '../store/one-time-token.repository.js';
import { revokeAllSessions } from '../store/session.repository.js';
import {
  findUserById,
  findUserWithRecordByEmail,
  markEmailVerified,
  updateOpaqueRecord,
} from '../store/user.repository.js';
import { addResetMail, addVerificationMail } from './email-links.js';
import { SCHEMA } from '../store/schema.js';
import type { UseCaseDeps } from './deps.js';
import { announceRevocation } from './sessions.js';

const badToken = () =>
  new UnauthorizedError('the link is invalid or has expired; ask for a new one', 'invalid_token');

/**
 * The address was just verified (link or reset): older verification links are void, and
 * notification-service, which only mails verified addresses optional mail, is told now rather
 * than at the next login.
 * @param m transaction manager
 * @param user the account (as read before or after the change)
 */
async function announceVerified(m: EntityManager, user: User): Promise<void> {
  await invalidateOneTimeTokens(m, user.id, 'verify_email');
  await addToOutbox(m, SCHEMA, {
    type: 'user.profile_updated.v1',
    aggregateId: user.id,
    payload: { userId: user.id, email: user.email, username: user.username, displayName: user.displayName, emailVerified: true },
  });
}

/**
 * Verifies an email address with the token from the verification link.
 * @param deps use case deps
 * @param token raw token
 * @param meta client
 * @throws {UnauthorizedError} `invalid_token`
 */
export async function verifyEmail(
  deps: UseCaseDeps,
  token: string,
  meta: RequestMeta,
): Promise<void> {
  const ok = await withTransaction(deps.ds, async (m) => {
    const userId = await consumeOneTimeToken(m, 'verify_email', tokenDigest(token));
    if (!userId) return false;
    await markEmailVerified(m, userId);
    await addAudit(m, userId, 'email_verified', meta);
    const user = await findUserById(m, userId);
    if (user) await announceVerified(m, user);
    return true;
  });
  if (!ok) throw badToken();
  deps.relay.kick();
}

/**
 * Sends a new verification link to a logged-in user whose address is not verified yet.
 * Rate limited per address; a verified address is a no-op.
 * @param deps use case deps
 * @param userId the user
 */
export async function requestVerification(deps: UseCaseDeps, userId: string): Promise<void> {
  const user = await findUserById(deps.ds.manager, userId);
  if (!user) throw new NotFoundError('user');
  if (user.emailVerifiedAt || !(await deps.limits.allowEmail(user.email))) return;
  await withTransaction(deps.ds, (m) => addVerificationMail(m, deps, user));
  deps.relay.kick();
}

/**
 * Starts a password reset. Always succeeds from the caller's view (no account enumeration).
 * Verified or not, the address gets a reset link, never a verification link: an unverified
 * account may be a squatter's (a stranger signed up first with my address), and a verification
 * link would verify it for them. Completing the reset proves control of the mailbox, takes the
 * account over (new password, every session ended) and verifies the address.
 * @param deps use case deps
 * @param email lower-cased email
 * @param meta client
 */
export async function requestPasswordReset(
  deps: UseCaseDeps,
  email: string,
  meta: RequestMeta,
): Promise<void> {
  const found = await findUserWithRecordByEmail(deps.ds.manager, email);
  // Known and unknown addresses do the same work, so the answer's timing does not tell them
  // apart: one lookup, one limiter call (counted for unknown addresses too), and, unless
  // limited, one committed transaction (for an unknown address, just its audit row).
  if (!(await deps.limits.allowEmail(email))) return;
  if (!found) {
    await withTransaction(deps.ds, (m) =>
      addAudit(m, null, 'password_reset_requested', meta, { mailed: 'nothing' }),
    );
    return;
  }
  const { opaqueRecord: _r, ...user } = found;
  await withTransaction(deps.ds, async (m) => {
    await addResetMail(m, deps, user);
    await addAudit(m, user.id, 'password_reset_requested', meta, { mailed: 'reset_link' });
  });
  deps.relay.kick();
}

/**
 * Reset step 1: OPAQUE re-registration response under a valid reset token (not used up yet).
 * @param deps use case deps
 * @param token raw reset token
 * @param registrationRequest client's OPAQUE request
 * @returns the registrationResponse
 */
export async function startPasswordReset(
  deps: UseCaseDeps,
  token: string,
  registrationRequest: string,
): Promise<{ registrationResponse: string }> {
  const userId = await peekOneTimeToken(deps.ds.manager, 'password_reset', tokenDigest(token));
  const user = userId ? await findUserById(deps.ds.manager, userId) : undefined;
  if (!user) throw badToken();
  const registrationResponse = deps.opaque.registrationResponse(user.email, registrationRequest);
  if (!registrationResponse)
    throw new ValidationError(
      'invalid body: registrationRequest is not a valid OPAQUE registration request',
    );
  return { registrationResponse };
}

/**
 * Reset step 2: stores the new OPAQUE record, uses the token up, ends every session and lifts
 * any lockout. The address counts as verified (the link proved control of it).
 * @param deps use case deps
 * @param token raw reset token
 * @param registrationRecord new OPAQUE record
 * @param meta client
 */
export async function finishPasswordReset(
  deps: UseCaseDeps,
  token: string,
  registrationRecord: string,
  meta: RequestMeta,
): Promise<void> {
  if (!deps.opaque.isValidRecord(registrationRecord)) {
    throw new ValidationError(
      'invalid body: registrationRecord is not a valid OPAQUE registration record',
    );
  }
  const done = await withTransaction(deps.ds, async (m) => {
    const userId = await consumeOneTimeToken(m, 'password_reset', tokenDigest(token));
    const user = userId ? await findUserById(m, userId) : undefined;
    if (!user) return undefined;
    await updateOpaqueRecord(m, user.id, Buffer.from(registrationRecord, 'base64url'), true);
    await invalidateOneTimeTokens(m, user.id, 'password_reset');
    // the link proved control of the mailbox: an unverified address (perhaps a squatter's sign-up
    // with it) is now verified, and the squatter's password and sessions are gone
    if (!user.emailVerifiedAt) await announceVerified(m, user);
    const revoked = await revokeAllSessions(m, user.id, 'password_reset');
    await addAudit(m, user.id, 'password_reset', meta, { sessionsRevoked: revoked.length });
    return { email: user.email, revoked };
  });
  if (!done) throw badToken();
  await announceRevocation(deps, done.revoked);
  await deps.limits.resetAccount(done.email);
}

/**
 * Password change while logged in, step 1.
 * @param deps use case deps
 * @param userId the user
 * @param registrationRequest client's OPAQUE request
 * @returns the registrationResponse
 */
export async function startPasswordChange(
  deps: UseCaseDeps,
  userId: string,
  registrationRequest: string,
): Promise<{ registrationResponse: string }> {
  const user = await findUserById(deps.ds.manager, userId);
  if (!user) throw new UnauthorizedError();
  const registrationResponse = deps.opaque.registrationResponse(user.email, registrationRequest);
  if (!registrationResponse)
    throw new ValidationError(
      'invalid body: registrationRequest is not a valid OPAQUE registration request',
    );
  return { registrationResponse };
}

/**
 * Password change step 2: stores the new record and ends every other session.
 * @param deps use case deps
 * @param userId the user
 * @param sessionId the session doing the change (kept)
 * @param registrationRecord new OPAQUE record
 * @param meta client
 */
export async function finishPasswordChange(
  deps: UseCaseDeps,
  userId: string,
  sessionId: string,
  registrationRecord: string,
  meta: RequestMeta,
): Promise<void> {
  if (!deps.opaque.isValidRecord(registrationRecord)) {
    throw new ValidationError(
      'invalid body: registrationRecord is not a valid OPAQUE registration record',
    );
  }
  const revoked = await withTransaction(deps.ds, async (m) => {
    const user = await findUserById(m, userId);
    if (!user) throw new UnauthorizedError();
    await updateOpaqueRecord(m, userId, Buffer.from(registrationRecord, 'base64url'));
    const ended = await revokeAllSessions(m, userId, 'password_changed', sessionId);
    await addAudit(m, userId, 'password_changed', meta, { sessionsRevoked: ended.length });
    return ended;
  });
  await announceRevocation(deps, revoked);
}
