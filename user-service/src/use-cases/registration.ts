import { randomUUID } from 'node:crypto';
import type { RegisterFinishBody, RegisterStartBody } from '@cipherchat/contracts';
import { ConflictError, ValidationError, addToOutbox, withTransaction } from '@cipherchat/service-kit';
import type { User } from '../domain/user.js';
import { addAudit, type RequestMeta } from '../store/audit.repository.js';
import { findTaken, insertUser } from '../store/user.repository.js';
import { SCHEMA } from '../store/schema.js';
import { addVerificationMail } from './email-links.js';
import { completeTokens, openSession, type IssuedTokens } from './sessions.js';
import type { UseCaseDeps } from './deps.js';

const takenError = (field: 'email' | 'username') =>
  field === 'email'
    ? new ConflictError('this email address is already registered', 'email_taken')
    : new ConflictError('this username is taken', 'username_taken');

/**
 * OPAQUE registration step 1. Stateless on the server: the response only depends on the
 * server setup, the email and the client's blinded request.
 * @param deps use case deps
 * @param body email, username, registrationRequest
 * @returns the registrationResponse
 * @throws {ConflictError} email_taken / username_taken
 * @throws {ValidationError} malformed registrationRequest
 */
export async function startRegistration(deps: UseCaseDeps, body: RegisterStartBody): Promise<{ registrationResponse: string }> {
  const taken = await findTaken(deps.ds.manager, body.email, body.username);
  if (taken) throw takenError(taken);
  const registrationResponse = deps.opaque.registrationResponse(body.email, body.registrationRequest);
  if (!registrationResponse) throw new ValidationError('invalid body: registrationRequest is not a valid OPAQUE registration request');
  return { registrationResponse };
}

/**
 * OPAQUE registration step 2: stores the record, opens a session, asks for email verification.
 * @param deps use case deps
 * @param body email, username, displayName, registrationRecord
 * @param meta client
 * @returns the new user and tokens
 * @throws {ConflictError} email_taken / username_taken
 * @throws {ValidationError} malformed registrationRecord
 */
export async function finishRegistration(
  deps: UseCaseDeps,
  body: RegisterFinishBody,
  meta: RequestMeta,
): Promise<{ user: User; tokens: IssuedTokens }> {
  if (!deps.opaque.isValidRecord(body.registrationRecord)) {
    throw new ValidationError('invalid body: registrationRecord is not a valid OPAQUE registration record');
  }
  const result = await withTransaction(deps.ds, async (m) => {
    const inserted = await insertUser(m, {
      id: randomUUID(),
      email: body.email,
      username: body.username,
      displayName: body.displayName,
      opaqueRecord: Buffer.from(body.registrationRecord, 'base64url'),
    });
    if ('taken' in inserted) return inserted;
    const { user } = inserted;
    await addToOutbox(m, SCHEMA, {
      type: 'user.registered.v1',
      aggregateId: user.id,
      payload: { userId: user.id, email: user.email, username: user.username, displayName: user.displayName },
    });
    await addVerificationMail(m, deps, user);
    await addAudit(m, user.id, 'registered', meta);
    const session = await openSession(m, deps, user.id, meta);
    return { user, session };
  });
  if ('taken' in result) throw takenError(result.taken);
  deps.relay.kick();
  return { user: result.user, tokens: await completeTokens(deps, result.user.id, result.session) };
}
