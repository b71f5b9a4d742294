import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUser, registerVerified, startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  // a 1.2 s delay and a 100 ms poll: the real timer loop, no runDue() calls
  h = await startHarness({ DIGEST_DELAY_MINUTES: '0.02', DIGEST_POLL_MS: '100' });
});
afterAll(async () => {
  await h?.cleanup();
});

describe('digest scheduler loop', () => {
  it('when the delay passes with the recipient offline, then the running service mails the digest by itself, once', async () => {
    const alice = newUser('Alice');
    await h.publishAndWait('user.registered.v1', alice);
    const bob = newUser('Bob');
    await registerVerified(h, bob);
    const sent = new Promise((resolve) => h.app.digests.on('digest', (r: { userId: string; outcome: string }) => r.userId === bob.userId && r.outcome === 'sent' && resolve(r)));
    for (let i = 0; i < 2; i++) {
      await h.publishAndWait('chat.message_queued.v1', { messageId: randomUUID(), recipientUserId: bob.userId, conversationId: randomUUID(), senderUserId: alice.userId, queuedAt: new Date().toISOString() });
    }
    await sent;
    const [mail] = await h.inbox.waitFor((m) => m.to === bob.email && m.subject.includes('new messages'));
    expect(mail!.subject).toBe('2 new messages from Alice on CipherChat');
    // the loop keeps running; a later pass finds nothing more to send
    const passes = (n: number) =>
      new Promise<void>((resolve) => {
        const on = () => --n === 0 && (h.app.digests.off('pass', on), resolve());
        h.app.digests.on('pass', on);
      });
    await passes(2);
    expect(h.inbox.to(bob.email).filter((m) => m.subject.includes('new messages'))).toHaveLength(1);
  });
});
