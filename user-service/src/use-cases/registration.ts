import { randomUUID } from 'node:crypto';
import type { RegisterFinishBody, RegisterStartBody } from '@cipherchat/contracts';
import {
  ConflictError,
  ValidationError,
  addToOutbox,
  withTransaction,
} from '@cipherchat/service-kit';
import { addAudit, type RequestMeta } from '../store/audit.repository.js';
import {
  findUserWithRecordByEmail,
  insertUser,
  isUsernameTaken,
} from '../store/user.repository.js';
import { SCHEMA } from '../store/schema.js';
import { addResetMail, addVerificationMail } from './email-links.js';
import type { UseCaseDeps } from './deps.js';

const usernameTaken = () => new ConflictError('this username is taken', 'username_taken');

/**
 * OPAQUE registration step 1. Stateless on the server: the response only depends on the
 * server setup, the email and the client's blinded request, so a taken address gets exactly
 * the answer a free one would (nothing is looked up by email here). Usernames are public (the
 * directory lists them), so a taken username is still answered `username_taken`.
 * @param deps use case deps
 * @param body email, username, registrationRequest
 * @returns the registrationResponse
 * @throws {ConflictError} username_taken
 * @throws {ValidationError} malformed registrationRequest
 */
export async function startRegistration(
  deps: UseCaseDeps,
  body: RegisterStartBody,
): Promise<{ registrationResponse: string }> {
  if (await isUsernameTaken(deps.ds.manager, body.username)) throw usernameTaken();
  const registrationResponse = deps.opaque.registrationResponse(
    body.email,
    body.registrationRequest,
  );
  if (!registrationResponse)
    throw new ValidationError(
      'invalid body: registrationRequest is not a valid OPAQUE registration request',
    );
  return { registrationResponse };
}

/**
 * OPAQUE registration step 2. The answer is the same `202 {status: 'accepted'}` for a free and
 * a taken address, and neither opens a session: the client then logs in (which succeeds only
 * for the account it just created). For a free address the account is created and a
 * verification link mailed; for a taken one nothing is created and the owner gets the
 * "someone tried to create an account with your address" mail, carrying a password-reset link
 * (a verification link if the address is not verified yet), through the same per-address rate
 * limit as a reset request (`EMAIL_REQUESTS_PER_HOUR`), so whoever it was, the owner keeps the
 * way in and cannot be mail-bombed.
 * @param deps use case deps
 * @param body email, username, displayName, registrationRecord
 * @param meta client
 * @throws {ConflictError} username_taken
 * @throws {ValidationError} malformed registrationRecord
 */
export async function finishRegistration(
  deps: UseCaseDeps,
  body: RegisterFinishBody,
  meta: RequestMeta,
): Promise<void> {
  if (!deps.opaque.isValidRecord(body.registrationRecord)) {
    throw new ValidationError(
      'invalid body: registrationRecord is not a valid OPAQUE registration record',
    );
  }
  const result = await withTransaction(deps.ds, async (m) => {
    const inserted = await insertUser(m, {
      id: randomUUID(),
      email: body.email,
      username: body.username,
      displayName: body.displayName,
      opaqueRecord: Buffer.from(body.registrationRecord, 'base64url'),
    });
    if ('taken' in inserted) return inserted.taken;
    const { user } = inserted;
    await addToOutbox(m, SCHEMA, {
      type: 'user.registered.v1',
      aggregateId: user.id,
      payload: {
        userId: user.id,
        email: user.email,
        username: user.username,
        displayName: user.displayName,
      },
    });
    await addVerificationMail(m, deps, user);
    await addAudit(m, user.id, 'registered', meta);
    return undefined;
  });
  if (result === 'username') throw usernameTaken();
  if (result === 'email') await tellOwner(deps, body.email, meta);
  deps.relay.kick();
}

/**
 * The owner of a taken address hears of the attempt: one event with `reason:
 * 'registration_attempt'` (notification-service renders its own mail for it; an older one sends
 * the plain reset mail). Rate limited per address, sharing the reset budget. Always a RESET
 * link, also when the account's address is not verified: that account may be a squatter's (a
 * stranger signed up first with my address), and a verification link would verify the
 * squatter's account for them. A reset proves control of the mailbox, makes the account the
 * mailbox owner's (new password, every session ended) and verifies the address.
 */
async function tellOwner(deps: UseCaseDeps, email: string, meta: RequestMeta): Promise<void> {
  const found = await findUserWithRecordByEmail(deps.ds.manager, email);
  if (!found || !(await deps.limits.allowEmail(email))) return;
  const { opaqueRecord: _r, ...owner } = found;
  await withTransaction(deps.ds, async (m) => {
    await addResetMail(m, deps, owner, 'registration_attempt');
    await addAudit(m, owner.id, 'registration_attempted', meta, { mailed: 'reset_link' });
  });
}
