import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { LinkReason } from '@cipherchat/contracts';
import { addToOutbox } from '@cipherchat/service-kit';
import { newSecretToken, tokenDigest } from '../domain/secret-token.js';
import type { User } from '../domain/user.js';
import { insertOneTimeToken } from '../store/one-time-token.repository.js';
import { SCHEMA } from '../store/schema.js';
import type { UseCaseDeps } from './deps.js';

/**
 * Creates an email verification token (digest stored) and the event carrying its link (sealed
 * in the outbox, unsealed by the relay), in the caller's transaction.
 * @param m transaction manager
 * @param deps use case deps
 * @param user the account
 * @param reason why (default: the account's own sign-up, or its logged-in user asked again). Only
 *   those: a request by whoever types the address (reset, registration attempt) gets a reset link
 *   ({@link addResetMail}), which a squatter's account cannot be verified with
 */
export async function addVerificationMail(m: EntityManager, deps: UseCaseDeps, user: User, reason?: LinkReason): Promise<void> {
  const token = newSecretToken();
  const expiresAt = new Date(Date.now() + deps.config.VERIFY_TOKEN_TTL_S * 1000);
  await insertOneTimeToken(m, { id: randomUUID(), userId: user.id, kind: 'verify_email', digest: tokenDigest(token), expiresAt });
  const verifyUrl = deps.seal.seal(`${deps.config.PUBLIC_BASE_URL}/verify-email`, token);
  await addToOutbox(m, SCHEMA, {
    type: 'user.email_verification_requested.v1',
    aggregateId: user.id,
    payload: { userId: user.id, email: user.email, displayName: user.displayName, verifyUrl, expiresAt: expiresAt.toISOString(), ...(reason ? { reason } : {}) },
  });
}

/**
 * Creates a password reset token and the event carrying its link, in the caller's transaction.
 * @param m transaction manager
 * @param deps use case deps
 * @param user the account (verified or not: completing the reset verifies the address)
 * @param reason why (default: the user asked); `registration_attempt` makes notification-service
 *   wrap the link in the "someone tried to sign up with your address" mail
 */
export async function addResetMail(m: EntityManager, deps: UseCaseDeps, user: User, reason?: LinkReason): Promise<void> {
  const token = newSecretToken();
  const expiresAt = new Date(Date.now() + deps.config.RESET_TOKEN_TTL_S * 1000);
  await insertOneTimeToken(m, { id: randomUUID(), userId: user.id, kind: 'password_reset', digest: tokenDigest(token), expiresAt });
  const resetUrl = deps.seal.seal(`${deps.config.PUBLIC_BASE_URL}/reset-password`, token);
  await addToOutbox(m, SCHEMA, {
    type: 'user.password_reset_requested.v1',
    aggregateId: user.id,
    payload: { userId: user.id, email: user.email, displayName: user.displayName, resetUrl, expiresAt: expiresAt.toISOString(), ...(reason ? { reason } : {}) },
  });
}
