import type { LoginFinishBody, LoginStartBody } from '@cipherchat/contracts';
import {
  RateLimitedError,
  UnauthorizedError,
  ValidationError,
  addToOutbox,
  withTransaction,
} from '@cipherchat/service-kit';
import type { User } from '../domain/user.js';
import { addAudit, type RequestMeta } from '../store/audit.repository.js';
import { findUserWithRecordByEmail } from '../store/user.repository.js';
import { SCHEMA } from '../store/schema.js';
import { completeTokens, openSession, type IssuedTokens } from './sessions.js';
import type { UseCaseDeps } from './deps.js';

/**
 * OPAQUE login step 1. Counts nothing (only a failed proof does, in {@link finishLogin}), so
 * anonymous starts cannot lock anyone out; a locked (account, IP) pair or account is refused
 * here already. Unknown emails get a well-formed fake response from the library (dummy record)
 * and a server state like any other, so nothing about the answer or the later finish tells
 * them apart.
 * @param deps use case deps
 * @param body email and startLoginRequest
 * @param meta client
 * @returns the loginResponse
 * @throws {RateLimitedError} `account_locked`
 * @throws {ValidationError} malformed startLoginRequest
 */
export async function startLogin(
  deps: UseCaseDeps,
  body: LoginStartBody,
  meta: RequestMeta,
): Promise<{ loginResponse: string }> {
  const user = await findUserWithRecordByEmail(deps.ds.manager, body.email);
  try {
    await deps.limits.assertNotLocked(body.email, meta.ip);
  } catch (err) {
    if (err instanceof RateLimitedError) {
      await withTransaction(deps.ds, (m) => addAudit(m, user?.id ?? null, 'login_locked', meta));
    }
    throw err;
  }
  const started = deps.opaque.startLogin(
    body.email,
    user?.opaqueRecord.toString('base64url'),
    body.startLoginRequest,
  );
  if (!started)
    throw new ValidationError(
      'invalid body: startLoginRequest is not a valid OPAQUE login request',
    );
  await deps.loginStates.push(body.email, meta.ip, started.state);
  return { loginResponse: started.loginResponse };
}

/**
 * OPAQUE login step 2: succeeds only if the client proved it knows the password for a pending
 * start of this email; that start is used up, so a replayed finish fails. A failed proof counts
 * for (account, client IP) and for the account; the failure that reaches a limit is answered
 * `account_locked`.
 * @param deps use case deps
 * @param body email and finishLoginRequest
 * @param meta client
 * @returns the user and tokens
 * @throws {UnauthorizedError} `invalid_credentials`
 * @throws {RateLimitedError} `account_locked`
 */
export async function finishLogin(
  deps: UseCaseDeps,
  body: LoginFinishBody,
  meta: RequestMeta,
): Promise<{ user: User; tokens: IssuedTokens }> {
  await deps.limits.assertNotLocked(body.email, meta.ip);
  const user = await findUserWithRecordByEmail(deps.ds.manager, body.email);
  const ok = await deps.loginStates.consume(body.email, meta.ip, (state) =>
    deps.opaque.finishLogin(state, body.finishLoginRequest),
  );
  if (!ok || !user) {
    await withTransaction(deps.ds, (m) => addAudit(m, user?.id ?? null, 'login_failed', meta));
    try {
      await deps.limits.countFailedProof(body.email, meta.ip);
    } catch (err) {
      if (err instanceof RateLimitedError)
        await withTransaction(deps.ds, (m) => addAudit(m, user?.id ?? null, 'login_locked', meta));
      throw err;
    }
    throw new UnauthorizedError('email or password is wrong', 'invalid_credentials');
  }
  await deps.limits.loginSucceeded(body.email, meta.ip);
  const session = await withTransaction(deps.ds, async (m) => {
    const s = await openSession(m, deps, user.id, meta);
    await addAudit(m, user.id, 'login_succeeded', meta, { sessionId: s.sessionId });
    await addToOutbox(m, SCHEMA, {
      type: 'user.new_login.v1',
      aggregateId: user.id,
      payload: {
        userId: user.id,
        email: user.email,
        displayName: user.displayName,
        emailVerified: user.emailVerifiedAt !== null,
        userAgent: meta.userAgent,
        ip: meta.ip.slice(0, 64),
        at: new Date().toISOString(),
      },
    });
    return s;
  });
  deps.relay.kick();
  const { opaqueRecord: _record, ...plainUser } = user;
  return { user: plainUser, tokens: await completeTokens(deps, user.id, session) };
}
