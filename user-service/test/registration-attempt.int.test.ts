import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import {
  call,
  createHarness,
  login,
  newAccount,
  register,
  registerOnly,
  tokenOf,
  type Harness,
} from './support/harness.js';

// Issue 15: a sign-up with an address that already has an account answers exactly like a free
// address and sends the owner one "someone tried to create an account with your address" mail:
// the reset event with reason `registration_attempt` (also when the account is unverified: it may
// be a squatter's, and a verification link would verify it for them), throttled per address by
// the reset budget (EMAIL_REQUESTS_PER_HOUR).
const PER_HOUR = 3;

describe('sign-up with a taken address', () => {
  let h: Harness;
  let base: string;
  let app: App;

  beforeAll(async () => {
    h = await createHarness('regattempt');
    ({ url: base, app } = await h.startApp({ EMAIL_REQUESTS_PER_HOUR: String(PER_HOUR) }));
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Registers and verifies an account; returns its id. */
  async function verifiedOwner(acc: ReturnType<typeof newAccount>): Promise<string> {
    const id = (await register(base, acc)).body.user.id as string;
    const verify = await h.waitForEvent(
      'user.email_verification_requested.v1',
      (e) => e.payload.userId === id,
    );
    const token = tokenOf(verify.payload.verifyUrl);
    expect((await call(base, 'POST', '/auth/verify-email', { token })).status).toBe(204);
    return id;
  }

  /** The events about one user, in arrival order, leaving out sign-in alerts. */
  const eventsOf = (userId: string) =>
    h.events.filter((e) => e.payload.userId === userId && e.type !== 'user.new_login.v1');

  it('when the address belongs to a verified account, then 202 with the free-address body, and the owner gets exactly one registration_attempt reset mail carrying nothing but the link', async () => {
    const me = newAccount('owner');
    const myId = await verifiedOwner(me);
    const taken = await registerOnly(base, { ...newAccount('probe'), email: me.email });
    const free = await registerOnly(base, newAccount('free'));
    expect([taken.status, taken.raw]).toEqual([202, '{"status":"accepted"}']);
    expect([free.status, free.raw]).toEqual([taken.status, taken.raw]);

    const mail = await h.waitForEvent(
      'user.password_reset_requested.v1',
      (e) => e.payload.userId === myId,
    );
    expect(mail.payload.reason).toBe('registration_attempt');
    expect(Object.keys(mail.payload).sort()).toEqual(
      ['displayName', 'email', 'expiresAt', 'reason', 'resetUrl', 'userId'].sort(),
    );
    // the link is a working reset link (the owner's way in, whoever tried)
    expect(String(mail.payload.resetUrl)).toMatch(
      /^http:\/\/localhost:8080\/reset-password\?token=[A-Za-z0-9_-]{43}$/,
    );
    const [row] = (await app.ds.query(
      `SELECT count(*)::int AS n FROM users.one_time_tokens WHERE user_id = $1 AND kind = 'password_reset' AND used_at IS NULL AND expires_at > now()`,
      [myId],
    )) as { n: number }[];
    expect(row!.n).toBe(1);
    expect(eventsOf(myId).map((e) => [e.type, e.payload.reason])).toEqual([
      ['user.registered.v1', undefined],
      ['user.email_verification_requested.v1', undefined],
      ['user.profile_updated.v1', undefined],
      ['user.password_reset_requested.v1', 'registration_attempt'],
    ]);
  });

  /** Completes a reset with the link's token and a new password (as the web client does). */
  async function resetWith(token: string, password: string): Promise<number> {
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    const start = await call(base, 'POST', '/auth/password-reset/start', { token, registrationRequest });
    expect(start.status).toBe(200);
    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse: start.body.registrationResponse,
      password,
    });
    return (await call(base, 'POST', '/auth/password-reset/finish', { token, registrationRecord })).status;
  }

  it("when a stranger squatted my address (signed up first, never verified) and I then try to sign up, then I get a RESET link, never a verification link; completing it verifies the address and the squatter's password and sessions are gone", async () => {
    const squatter = newAccount('squat');
    const signedUp = (await register(base, squatter)).body;
    const squatId = signedUp.user.id as string;
    const me = { ...newAccount('mine'), email: squatter.email };
    const taken = await registerOnly(base, me);
    expect([taken.status, taken.raw]).toEqual([202, '{"status":"accepted"}']);
    const mail = await h.waitForEvent(
      'user.password_reset_requested.v1',
      (e) => e.payload.userId === squatId && e.payload.reason === 'registration_attempt',
    );
    expect(String(mail.payload.resetUrl)).toMatch(
      /^http:\/\/localhost:8080\/reset-password\?token=[A-Za-z0-9_-]{43}$/,
    );
    // the only verification mail is the squatter's own sign-up one (sent to my mailbox)
    expect(
      eventsOf(squatId)
        .filter((e) => e.type === 'user.email_verification_requested.v1')
        .map((e) => e.payload.reason),
    ).toEqual([undefined]);
    const audit = (await app.ds.query(
      `SELECT details FROM users.audit_log WHERE user_id = $1 AND kind = 'registration_attempted'`,
      [squatId],
    )) as { details: unknown }[];
    expect(audit).toEqual([{ details: { mailed: 'reset_link' } }]);

    // I follow the link: the account is now mine, with my password, and its address verified
    expect(await resetWith(tokenOf(mail.payload.resetUrl), me.password)).toBe(204);
    const [row] = (await app.ds.query(
      `SELECT email_verified_at IS NOT NULL AS verified FROM users.users WHERE id = $1`,
      [squatId],
    )) as { verified: boolean }[];
    expect(row?.verified).toBe(true);
    // notification-service is told at once (it only mails verified addresses)
    const told = await h.waitForEvent(
      'user.profile_updated.v1',
      (e) => e.payload.userId === squatId,
    );
    expect(told.payload.emailVerified).toBe(true);
    // the verification link the squatter's sign-up sent is void now
    const [open] = (await app.ds.query(
      `SELECT count(*)::int AS n FROM users.one_time_tokens WHERE user_id = $1 AND kind = 'verify_email' AND used_at IS NULL`,
      [squatId],
    )) as { n: number }[];
    expect(open?.n).toBe(0);
    // the squatter's password no longer logs in, their session is over; mine works
    expect((await login(base, squatter)).finish).toBeUndefined();
    expect(
      (await call(base, 'POST', '/auth/refresh', { refreshToken: signedUp.refreshToken })).status,
    ).toBe(401);
    expect((await login(base, me)).finish?.status).toBe(200);
  });

  it(`when someone signs up with my address again and again, then every answer is 202 but at most ${PER_HOUR} mails per hour are queued for me (shared with reset requests)`, async () => {
    const me = newAccount('bomb');
    const myId = await verifiedOwner(me);
    // one reset I asked for myself uses the same budget
    expect(
      (await call(base, 'POST', '/auth/password-reset/request', { email: me.email })).status,
    ).toBe(202);
    for (let i = 0; i < PER_HOUR + 3; i++) {
      const r = await registerOnly(base, { ...newAccount('bomber'), email: me.email });
      expect([r.status, r.raw]).toEqual([202, '{"status":"accepted"}']);
    }
    // register/finish commits its outbox row before answering, so the outbox is complete now
    const rows = (await app.ds.query(
      `SELECT payload->>'reason' AS reason FROM users.outbox WHERE type = 'user.password_reset_requested.v1' AND aggregate_id = $1`,
      [myId],
    )) as { reason: string | null }[];
    const reasons = rows.map((r) => r.reason ?? 'requested').sort();
    expect(reasons).toEqual([
      ...Array<string>(PER_HOUR - 1).fill('registration_attempt'),
      'requested',
    ]);
  });
});
