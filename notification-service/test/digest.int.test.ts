import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUser, registerVerified, startHarness, type Harness, type TestUser } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ DIGEST_DELAY_MINUTES: '15' });
});
afterAll(async () => {
  await h?.cleanup();
});

const minutesFromNow = (m: number) => new Date(Date.now() + m * 60_000);

async function queueMessages(recipient: TestUser, sender: TestUser, n: number, at = new Date()): Promise<void> {
  for (let i = 0; i < n; i++) {
    await h.publishAndWait('chat.message_queued.v1', {
      messageId: randomUUID(),
      recipientUserId: recipient.userId,
      conversationId: randomUUID(),
      senderUserId: sender.userId,
      queuedAt: at.toISOString(),
    });
  }
}

/** A verified recipient whose welcome mail is already out of the way. */
async function verifiedUser(name: string): Promise<TestUser> {
  const u = newUser(name);
  await registerVerified(h, u);
  await h.inbox.waitFor((m) => m.to === u.email && m.subject.startsWith('Welcome'));
  return u;
}

const digestsTo = (u: TestUser) => h.inbox.to(u.email).filter((m) => m.subject.includes('new message'));

describe('unread-message digests', () => {
  it('when a recipient stays offline past the delay, then exactly one digest with the right count and sender arrives', async () => {
    const alice = newUser('Alice');
    await h.publishAndWait('user.registered.v1', alice);
    const bob = await verifiedUser('Bob');
    await queueMessages(bob, alice, 3);

    // before the delay: nothing
    expect((await h.app.digests.runDue(minutesFromNow(14))).filter((r) => r.userId === bob.userId)).toEqual([]);
    const results = await h.app.digests.runDue(minutesFromNow(16));
    expect(results.filter((r) => r.userId === bob.userId)).toMatchObject([{ count: 3, outcome: 'sent' }]);
    const [mail] = await h.inbox.waitFor((m) => m.to === bob.email && m.subject.includes('new message'));
    expect(mail!.subject).toBe('3 new messages from Alice on CipherChat');
    expect(mail!.text).toContain('3 new messages from Alice while you were away.');
    expect(mail!.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

    // later runs send nothing more for the same messages
    await h.app.digests.runDue(minutesFromNow(60 * 48));
    expect(digestsTo(bob)).toHaveLength(1);
  });

  it('when the recipient chose generic digests, then the mail names nobody and gives no count', async () => {
    const carol = newUser('Carol');
    await h.publishAndWait('user.registered.v1', carol);
    const dave = await verifiedUser('Dave');
    const res = await fetch(`${h.baseUrl}/api/notifications/preferences`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await h.tokens.mint(dave.userId)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ digestContent: 'generic' }),
    });
    expect(res.status).toBe(200);
    await queueMessages(dave, carol, 2);
    await h.app.digests.runDue(minutesFromNow(16));
    const [mail] = await h.inbox.waitFor((m) => m.to === dave.email && m.subject.includes('new messages'));
    expect(mail!.subject).toBe('You have new messages on CipherChat');
    expect(mail!.text).not.toContain('Carol');
    expect(mail!.html).not.toContain('Carol');
    expect(mail!.text).not.toMatch(/\b2\b/);
  });

  it('when the mailbox is drained before the delay, then no digest is sent', async () => {
    const erin = newUser('Erin');
    await h.publishAndWait('user.registered.v1', erin);
    const frank = await verifiedUser('Frank');
    const queuedAt = new Date();
    await queueMessages(frank, erin, 2, queuedAt);
    await h.publishAndWait('chat.mailbox_drained.v1', { userId: frank.userId, at: new Date(queuedAt.getTime() + 1000).toISOString() });
    const results = await h.app.digests.runDue(minutesFromNow(60));
    expect(results.filter((r) => r.userId === frank.userId)).toEqual([]);
    expect(h.inbox.to(frank.email).map((m) => m.subject)).toEqual(['Welcome to CipherChat']);
  });

  it('when the recipient unsubscribed from digests, then none is sent', async () => {
    const gina = newUser('Gina');
    await h.publishAndWait('user.registered.v1', gina);
    const hank = await verifiedUser('Hank');
    await queueMessages(hank, gina, 1);
    // the same signed link a digest mail carries in List-Unsubscribe (kind = digest)
    const { signUnsubscribeToken } = await import('../src/domain/unsubscribe-token.js');
    const token = signUnsubscribeToken(h.config.UNSUBSCRIBE_SECRET, { userId: hank.userId, kind: 'digest' });
    const res = await fetch(`${h.baseUrl}/api/notifications/unsubscribe?token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    const results = await h.app.digests.runDue(minutesFromNow(60));
    expect(results.filter((r) => r.userId === hank.userId)).toMatchObject([{ outcome: 'suppressed' }]);
    expect(digestsTo(hank)).toHaveLength(0);
    // and later messages are not even recorded
    await queueMessages(hank, gina, 1);
    const items = (await h.app.ds.query(`SELECT count(*)::int AS n FROM notify.digest_items WHERE user_id = $1`, [hank.userId])) as { n: number }[];
    expect(items[0]!.n).toBe(0);
  });

  it('when the recipient never verified the address, then no digest is sent', async () => {
    const ivan = newUser('Ivan');
    const judy = newUser('Judy');
    await h.publishAndWait('user.registered.v1', ivan);
    await h.publishAndWait('user.registered.v1', judy);
    await queueMessages(judy, ivan, 2);
    const results = await h.app.digests.runDue(minutesFromNow(60));
    expect(results.filter((r) => r.userId === judy.userId)).toMatchObject([{ outcome: 'suppressed' }]);
    expect(h.inbox.to(judy.email)).toHaveLength(0);
  });

  it('when the same message is reported twice, then it is counted once', async () => {
    const kim = newUser('Kim');
    await h.publishAndWait('user.registered.v1', kim);
    const leo = await verifiedUser('Leo');
    const payload = { messageId: randomUUID(), recipientUserId: leo.userId, conversationId: randomUUID(), senderUserId: kim.userId, queuedAt: new Date().toISOString() };
    await h.publishAndWait('chat.message_queued.v1', payload);
    await h.publishAndWait('chat.message_queued.v1', payload); // another event id, same message
    await h.app.digests.runDue(minutesFromNow(16));
    const [mail] = await h.inbox.waitFor((m) => m.to === leo.email && m.subject.includes('new message'));
    expect(mail!.subject).toBe('1 new message from Kim on CipherChat');
  });

  it('when two schedulers (replicas) run at once, then each digest is sent once', async () => {
    const mia = newUser('Mia');
    await h.publishAndWait('user.registered.v1', mia);
    const users = await Promise.all(['N1', 'N2', 'N3', 'N4'].map((n) => verifiedUser(n)));
    for (const u of users) await queueMessages(u, mia, 2);
    const second = await h.replica();
    try {
      const [a, b] = await Promise.all([h.app.digests.runDue(minutesFromNow(16)), second.digests.runDue(minutesFromNow(16))]);
      const sent = [...a, ...b].filter((r) => users.some((u) => u.userId === r.userId) && r.outcome === 'sent');
      expect(sent).toHaveLength(4);
      for (const u of users) {
        await h.inbox.waitFor((m) => m.to === u.email && m.subject.includes('new message'));
        expect(digestsTo(u)).toHaveLength(1);
      }
    } finally {
      await second.close();
    }
  });

  it('when messages arrive for a user who was already sent a digest in this absence, then the next one waits for the repeat gap', async () => {
    const noah = newUser('Noah');
    await h.publishAndWait('user.registered.v1', noah);
    const olga = await verifiedUser('Olga');
    await queueMessages(olga, noah, 1);
    await h.app.digests.runDue(minutesFromNow(16));
    await h.inbox.waitFor((m) => m.to === olga.email && m.subject.includes('new message'));
    await queueMessages(olga, noah, 2);
    expect((await h.app.digests.runDue(minutesFromNow(60))).filter((r) => r.userId === olga.userId)).toEqual([]);
    const later = await h.app.digests.runDue(minutesFromNow(25 * 60));
    expect(later.filter((r) => r.userId === olga.userId)).toMatchObject([{ outcome: 'sent', count: 2 }]);
  });
});
