import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForConsumed } from '@cipherchat/service-kit/testing';
import { newUser, registerVerified, startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MAIL_RATE_LIMIT_PER_HOUR: '3' });
});
afterAll(async () => {
  await h?.cleanup();
});

const verifyPayload = (u: ReturnType<typeof newUser>, token: string = randomUUID()) => ({
  userId: u.userId,
  email: u.email,
  displayName: u.displayName,
  verifyUrl: `http://chat.test/verify-email?token=${token}`,
  expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
});

describe('account mails', () => {
  it('when a verification is requested, then one mail with text and HTML parts, the link, the logo and RFC 8058 headers arrives', async () => {
    const u = newUser('Zoë <b>&</b>');
    const token = `tok${randomUUID().split('-').join('')}`;
    const { eventId } = await h.publishAndWait('user.email_verification_requested.v1', verifyPayload(u, token));
    const [mail] = await h.inbox.waitFor((m) => m.to === u.email);
    expect(mail!.subject).toBe('Confirm your email address for CipherChat');
    expect(mail!.text).toContain(`http://chat.test/verify-email?token=${token}`);
    expect(mail!.html).toContain(`href="http://chat.test/verify-email?token=${token}"`);
    expect(mail!.html).toContain('src="http://chat.test/logo.png"');
    // user-controlled text is escaped in HTML
    expect(mail!.html).toContain('Zoë &lt;b&gt;&amp;&lt;/b&gt;');
    expect(mail!.html).not.toContain('<b>&</b>');
    expect(mail!.messageId).toBe(`<${eventId}.verify_email@cipherchat.test>`);
    expect(mail!.header('list-unsubscribe')).toMatch(/^<http:\/\/chat\.test\/api\/notifications\/unsubscribe\?token=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+>$/);
    expect(mail!.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(mail!.text).toContain('Unsubscribe: http://chat.test/api/notifications/unsubscribe?token=');

    // the sent log has the row, without the token or the address in clear
    const rows = (await h.app.ds.query(`SELECT * FROM notify.sent_mail WHERE event_id = $1`, [eventId])) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'verify_email', status: 'sent', user_id: u.userId });
    const dump = JSON.stringify(await h.app.ds.query(`SELECT * FROM notify.sent_mail`));
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(u.email);
    expect(h.logs.text()).not.toContain(token);
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/notify_mails_total\{[^}]*kind="verify_email"[^}]*outcome="sent"[^}]*\} [1-9]/);
  });

  it('when the same event is delivered twice, then only one mail is sent', async () => {
    const u = newUser();
    const id = randomUUID();
    const first = await h.publishAndWait('user.email_verification_requested.v1', verifyPayload(u), { id });
    expect(first.result).toBe('ack');
    const second = await h.publishAndWait('user.email_verification_requested.v1', verifyPayload(u), { id });
    expect(second.result).toBe('duplicate');
    expect(h.inbox.to(u.email)).toHaveLength(1);
  });

  it('when an unverified user logs in, then no alert is sent; once verified, the welcome and the alert arrive', async () => {
    const u = newUser('Bob');
    await h.publishAndWait('user.registered.v1', u);
    const login = (emailVerified: boolean) => ({
      userId: u.userId,
      email: u.email,
      displayName: u.displayName,
      emailVerified,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
      ip: '203.0.113.7',
      at: '2026-11-22T05:50:00.000Z',
    });
    const unverified = await h.publishAndWait('user.new_login.v1', login(false));
    expect(unverified.result).toBe('ack');
    const logged = (await h.app.ds.query(`SELECT status, reason FROM notify.sent_mail WHERE event_id = $1`, [unverified.eventId])) as { status: string; reason: string }[];
    expect(logged).toEqual([{ status: 'suppressed', reason: 'unverified' }]);

    await h.publishAndWait('user.new_login.v1', login(true));
    const mails = await h.inbox.waitFor((m) => m.to === u.email, 2);
    const subjects = mails.map((m) => m.subject).sort();
    expect(subjects).toEqual(['New sign-in to your CipherChat account', 'Welcome to CipherChat']);
    const alert = mails.find((m) => m.subject.startsWith('New sign-in'))!;
    expect(alert.text).toContain('Device: Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0');
    expect(alert.text).toContain('Time: 2026-11-22 05:50 UTC');
    expect(alert.text).toContain('IP address: 203.0.113.7');
    const welcome = mails.find((m) => m.subject.startsWith('Welcome'))!;
    expect(welcome.text).toContain(`@${u.username}`);

    // a later profile update does not welcome them again
    await h.publishAndWait('user.profile_updated.v1', { ...u, displayName: 'Bobby', emailVerified: true });
    expect(h.inbox.to(u.email)).toHaveLength(2);
  });

  it('when a password reset is requested, then the mail has the link and says what happens to the key backup', async () => {
    const u = newUser('Carol');
    await registerVerified(h, u);
    await h.inbox.waitFor((m) => m.to === u.email && m.subject.startsWith('Welcome'));
    await h.publishAndWait('user.password_reset_requested.v1', {
      userId: u.userId,
      email: u.email,
      displayName: u.displayName,
      resetUrl: 'http://chat.test/reset-password?token=abc123',
      expiresAt: '2026-11-22T07:00:00.000Z',
    });
    const [mail] = await h.inbox.waitFor((m) => m.to === u.email && m.subject === 'Reset your CipherChat password');
    expect(mail!.text).toContain('http://chat.test/reset-password?token=abc123');
    expect(mail!.text).toContain('recovery key');
    expect(mail!.text).toContain('safety number changed');
    expect(mail!.text).toContain('new identity');
    expect(mail!.text).toContain('expires at 2026-11-22 07:00 UTC');
  });

  it('when someone tried to register with a verified address (reset event, reason registration_attempt), then the owner gets the "someone tried" mail with the reset and log-in links and no other link', async () => {
    const u = newUser('Dora');
    await registerVerified(h, u);
    await h.inbox.waitFor((m) => m.to === u.email && m.subject.startsWith('Welcome'));
    const resetUrl = `http://chat.test/reset-password?token=tok${randomUUID().split('-').join('')}`;
    const { eventId } = await h.publishAndWait('user.password_reset_requested.v1', {
      userId: u.userId,
      email: u.email,
      displayName: u.displayName,
      resetUrl,
      expiresAt: '2026-11-22T07:00:00.000Z',
      reason: 'registration_attempt',
    });
    const [mail] = await h.inbox.waitFor((m) => m.to === u.email && !m.subject.startsWith('Welcome'));
    expect(mail!.subject).toBe('Someone tried to create a CipherChat account with your address');
    expect(mail!.text).toContain('Hello Dora,');
    expect(mail!.text).toContain('An account with this address already exists, so no new account was created.');
    expect(mail!.text).toContain('If it was you: you already have an account, just log in.');
    expect(mail!.text).toContain(`Reset my password: ${resetUrl}`);
    expect(mail!.text).toContain('Log in: http://chat.test/');
    expect(mail!.text).toContain('If it was not you, nothing changed and you need to do nothing');
    expect(mail!.text).toContain('expires at 2026-11-22 07:00 UTC');
    expect(mail!.html).toContain(`href="${resetUrl}"`);
    expect(mail!.html).toContain('href="http://chat.test/"');
    // no secret but the reset link: every other link is the log-in page, the footer's product
    // link or the unsubscribe link (which every mail has)
    const links = new Set([...mail!.text.matchAll(/https?:\/\/\S+/g)].map((x) => x[0]));
    const others = [...links].filter((l) => l !== resetUrl && !l.startsWith('http://chat.test/api/notifications/unsubscribe?token='));
    expect(others.sort()).toEqual(['http://chat.test', 'http://chat.test/']);
    expect(mail!.messageId).toBe(`<${eventId}.registration_attempt@cipherchat.test>`);
    // the only mail for this event: no plain reset mail besides it
    expect(h.inbox.to(u.email).filter((m) => !m.subject.startsWith('Welcome'))).toHaveLength(1);
    const rows = (await h.app.ds.query(`SELECT kind, status FROM notify.sent_mail WHERE event_id = $1`, [eventId])) as unknown[];
    expect(rows).toEqual([{ kind: 'registration_attempt', status: 'sent' }]);
    expect(h.logs.text()).not.toContain(resetUrl);
  });

  it('when someone tried to register with an unverified address (reset event, reason registration_attempt), then the owner gets the reset link worded as taking the account over', async () => {
    const u = newUser('Emil');
    await h.publishAndWait('user.registered.v1', u);
    const resetUrl = `http://chat.test/reset-password?token=tok${randomUUID().split('-').join('')}`;
    const { eventId } = await h.publishAndWait('user.password_reset_requested.v1', {
      userId: u.userId,
      email: u.email,
      displayName: u.displayName,
      resetUrl,
      expiresAt: '2026-11-22T07:00:00.000Z',
      reason: 'registration_attempt',
    });
    const [mail] = await h.inbox.waitFor((m) => m.to === u.email);
    expect(mail!.subject).toBe('Someone tried to create a CipherChat account with your address');
    expect(mail!.text).toContain('That account was never confirmed');
    expect(mail!.text).toContain(`Choose my password: ${resetUrl}`);
    expect(mail!.text).not.toContain('verify-email');
    const rows = (await h.app.ds.query(`SELECT kind, status FROM notify.sent_mail WHERE event_id = $1`, [eventId])) as unknown[];
    expect(rows).toEqual([{ kind: 'registration_attempt', status: 'sent' }]);
  });

  it('when an older user-service sends a registration attempt with a verification link, then it is not mailed (it would verify a squatter\'s account)', async () => {
    const u = newUser('Fritz');
    await h.publishAndWait('user.registered.v1', u);
    const { eventId } = await h.publishAndWait('user.email_verification_requested.v1', { ...verifyPayload(u, 'conf1rm'), reason: 'registration_attempt' });
    const rows = (await h.app.ds.query(`SELECT status FROM notify.sent_mail WHERE event_id = $1`, [eventId])) as unknown[];
    expect(rows).toEqual([]);
    expect(h.inbox.to(u.email)).toHaveLength(0);
  });

  it('when a reset is requested for a known unverified address, then the reset mail is sent (a reset is how the owner takes back a squatted account)', async () => {
    const u = newUser();
    await h.publishAndWait('user.registered.v1', u);
    const { eventId } = await h.publishAndWait('user.password_reset_requested.v1', {
      userId: u.userId,
      email: u.email,
      displayName: u.displayName,
      resetUrl: 'http://chat.test/reset-password?token=zzz',
      expiresAt: '2026-11-22T07:00:00.000Z',
    });
    const [mail] = await h.inbox.waitFor((m) => m.to === u.email);
    expect(mail!.text).toContain('http://chat.test/reset-password?token=zzz');
    const logged = (await h.app.ds.query(`SELECT status FROM notify.sent_mail WHERE event_id = $1`, [eventId])) as unknown[];
    expect(logged).toEqual([{ status: 'sent' }]);
  });

  it('when optional mails exceed the hourly limit, then the extra ones are not sent but verification mails still are', async () => {
    const u = newUser();
    await registerVerified(h, u); // welcome = 1
    const login = () => ({ userId: u.userId, email: u.email, displayName: u.displayName, emailVerified: true, userAgent: 'curl/8', ip: '127.0.0.1', at: new Date().toISOString() });
    await h.publishAndWait('user.new_login.v1', login()); // 2
    await h.publishAndWait('user.new_login.v1', login()); // 3 = limit
    const limited = await h.publishAndWait('user.new_login.v1', login());
    const logged = (await h.app.ds.query(`SELECT reason FROM notify.sent_mail WHERE event_id = $1`, [limited.eventId])) as unknown[];
    expect(logged).toEqual([{ reason: 'rate_limited' }]);
    await h.publishAndWait('user.email_verification_requested.v1', verifyPayload(u));
    await h.inbox.waitFor((m) => m.to === u.email && m.subject.startsWith('Confirm'));
    expect(h.inbox.to(u.email)).toHaveLength(4);
  });

  it('when a user is deleted, then their profile, preferences and digests are forgotten and log rows lose personal data', async () => {
    const u = newUser();
    await registerVerified(h, u);
    await h.inbox.waitFor((m) => m.to === u.email);
    const res = await fetch(`${h.baseUrl}/api/notifications/preferences`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await h.tokens.mint(u.userId)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ digestContent: 'generic' }),
    });
    expect(res.status).toBe(200);
    await h.publishAndWait('chat.message_queued.v1', { messageId: randomUUID(), recipientUserId: u.userId, conversationId: randomUUID(), senderUserId: randomUUID(), queuedAt: new Date().toISOString() });

    await h.publishAndWait('user.deleted.v1', { userId: u.userId });
    const count = async (table: string) =>
      ((await h.app.ds.query(`SELECT count(*)::int AS n FROM notify.${table} WHERE user_id = $1`, [u.userId])) as { n: number }[])[0]!.n;
    for (const t of ['users', 'preferences', 'digests', 'digest_items', 'sent_mail']) expect(await count(t), t).toBe(0);
  });

  it('when a malformed event arrives, then it goes to the dead-letter queue with a log line saying why, and the next good event is still mailed', async () => {
    const q = h.app.queues.accountMail;
    const amqp = await import('amqplib');
    const conn = await amqp.default.connect(h.env.AMQP_URL!);
    const ch = await conn.createChannel();
    const dlqBefore = (await ch.checkQueue(`${q}.dlq`)).messageCount;
    const dead = waitForConsumed(h.app.bus, q, 1, (e) => e.result === 'dead_letter');
    await h.publisher.publishRaw('user.email_verification_requested.v1', Buffer.from('{"id":"not-a-uuid","type":"user.email_verification_requested.v1"}'));
    const [d] = await dead;
    expect(d!.reason).toMatch(/bad envelope/);
    const badPayload = waitForConsumed(h.app.bus, q, 1, (e) => e.result === 'dead_letter');
    await h.publisher.publish([{ id: randomUUID(), type: 'user.email_verification_requested.v1', occurredAt: new Date().toISOString(), aggregateId: 'x', payload: { userId: 'nope', email: 'not-an-address' } }]);
    const [d2] = await badPayload;
    expect(d2!.reason).toMatch(/bad payload: .*userId/);
    const log = h.logs.text();
    expect(log).toContain('malformed event sent to dead-letter queue');
    expect(log).toMatch(/"reason":"bad payload: [^"]*email/);

    const u = newUser();
    await h.publishAndWait('user.email_verification_requested.v1', verifyPayload(u));
    await h.inbox.waitFor((m) => m.to === u.email);

    expect((await ch.checkQueue(`${q}.dlq`)).messageCount).toBe(dlqBefore + 2);
    await conn.close();
  });

  it('when the server refuses the recipient for good (550), then the event is not retried and the log says why', async () => {
    const u = { ...newUser(), email: `nobody-${randomUUID().slice(0, 8)}@example.test` };
    const { eventId, result } = await h.publishAndWait('user.email_verification_requested.v1', verifyPayload(u));
    expect(result).toBe('ack');
    const logged = (await h.app.ds.query(`SELECT status, reason FROM notify.sent_mail WHERE event_id = $1`, [eventId])) as unknown[];
    expect(logged).toEqual([{ status: 'suppressed', reason: 'recipient_rejected' }]);
  });

  it('when the SMTP server stays down through every attempt, then the event is dead-lettered with the reason and nothing is logged as sent', async () => {
    const q = h.app.queues.accountMail;
    await h.inbox.stop();
    try {
      const u = newUser();
      const id = randomUUID();
      const retried = waitForConsumed(h.app.bus, q, 5, (e) => e.eventId === id && e.result === 'retry');
      const dead = waitForConsumed(h.app.bus, q, 1, (e) => e.eventId === id && e.result === 'dead_letter');
      await h.publish('user.email_verification_requested.v1', verifyPayload(u), { id });
      await retried; // RETRY_MAX_ATTEMPTS = 6 in this file: five retries, then the DLQ
      const [d] = await dead;
      expect(d!.reason).toMatch(/ECONNREFUSED/);
      expect(h.logs.text()).toContain('event failed every attempt; sent to dead-letter queue');
      expect(await h.app.ds.query(`SELECT 1 FROM notify.sent_mail WHERE event_id = $1`, [id])).toEqual([]);
      expect(await h.app.ds.query(`SELECT 1 FROM notify.inbox WHERE id = $1`, [id])).toEqual([]);
    } finally {
      await h.inbox.start();
    }
  });
});
