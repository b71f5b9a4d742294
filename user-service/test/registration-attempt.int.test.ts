import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import {
  call,
  createHarness,
  newAccount,
  register,
  registerOnly,
  tokenOf,
  type Harness,
} from './support/harness.js';

// Issue 15: a sign-up with an address that already has an account answers exactly like a free
// address and sends the owner one "someone tried to create an account with your address" mail:
// the reset (or, unverified, verification) event with reason `registration_attempt`, throttled
// per address by the reset budget (EMAIL_REQUESTS_PER_HOUR).
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

  it('when the address belongs to an unverified account, then the owner gets the registration_attempt mail with a verification link instead', async () => {
    const me = newAccount('unver');
    const myId = (await register(base, me)).body.user.id as string;
    const taken = await registerOnly(base, { ...newAccount('probe'), email: me.email });
    expect([taken.status, taken.raw]).toEqual([202, '{"status":"accepted"}']);
    const mail = await h.waitForEvent(
      'user.email_verification_requested.v1',
      (e) => e.payload.userId === myId && e.payload.reason === 'registration_attempt',
    );
    expect(String(mail.payload.verifyUrl)).toMatch(/\/verify-email\?token=[A-Za-z0-9_-]{43}$/);
    expect(eventsOf(myId).filter((e) => e.type === 'user.password_reset_requested.v1')).toEqual([]);
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
