import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForConsumed } from '@cipherchat/service-kit/testing';
import { newUser, registerVerified, startHarness, type Harness, type TestUser } from './support/harness.js';
import { until } from './support/until.js';

let h: Harness;
beforeAll(async () => {
  // many short retries, so "SMTP down for a while" never exhausts them during the test
  h = await startHarness({ RETRY_MAX_ATTEMPTS: '30', RETRY_BASE_MS: '50', RETRY_MAX_MS: '300' });
});
afterAll(async () => {
  await h?.cleanup();
});

const verification = (u: TestUser) => ({
  userId: u.userId,
  email: u.email,
  displayName: u.displayName,
  verifyUrl: `http://chat.test/verify-email?token=${randomUUID()}`,
  expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
});

const sentCount = async (eventIds: string[]) =>
  ((await h.app.ds.query(`SELECT count(*)::int AS n FROM notify.sent_mail WHERE status = 'sent' AND event_id = ANY($1::uuid[])`, [eventIds])) as { n: number }[])[0]!.n;

describe('failures', () => {
  it('when the SMTP server is down, then the mail is retried with backoff and delivered once it is back', async () => {
    await h.inbox.stop();
    const u = newUser();
    const q = h.app.queues.accountMail;
    const retries = waitForConsumed(h.app.bus, q, 2, (e) => e.result === 'retry');
    await h.publish('user.email_verification_requested.v1', verification(u));
    const seen = await retries;
    expect(seen[0]!.reason).toMatch(/ECONNREFUSED|connect/i);
    expect(h.logs.text()).toContain('event handler failed; will retry');
    await h.inbox.start();
    await h.inbox.waitFor((m) => m.to === u.email);
    await until('the mail is logged', async () => (await h.app.ds.query(`SELECT 1 FROM notify.sent_mail s JOIN notify.inbox i ON i.id = s.event_id WHERE s.user_id = $1`, [u.userId])).length === 1);
    expect(h.inbox.to(u.email)).toHaveLength(1);
  });

  it('when the SMTP server is down at digest time, then the digest is retried later and sent once', async () => {
    const sender = newUser('Sam');
    await h.publishAndWait('user.registered.v1', sender);
    const r = newUser('Rita');
    await registerVerified(h, r);
    await h.inbox.waitFor((m) => m.to === r.email);
    await h.publishAndWait('chat.message_queued.v1', { messageId: randomUUID(), recipientUserId: r.userId, conversationId: randomUUID(), senderUserId: sender.userId, queuedAt: new Date().toISOString() });
    await h.inbox.stop();
    const at = new Date(Date.now() + 16 * 60_000);
    expect((await h.app.digests.runDue(at)).filter((x) => x.userId === r.userId)).toMatchObject([{ outcome: 'failed' }]);
    await h.inbox.start();
    const later = await h.app.digests.runDue(new Date(at.getTime() + 60_000));
    expect(later.filter((x) => x.userId === r.userId)).toMatchObject([{ outcome: 'sent', count: 1 }]);
    await h.inbox.waitFor((m) => m.to === r.email && m.subject === '1 new message from Sam on CipherChat');
  });

  it('when the service is closed while events are queued and started again, then every mail arrives exactly once', async () => {
    const users = Array.from({ length: 12 }, () => newUser());
    const ids: string[] = [];
    for (const u of users.slice(0, 8)) ids.push(await h.publish('user.email_verification_requested.v1', verification(u)));
    await h.inbox.waitFor((m) => users.some((u) => u.email === m.to), 3);
    await h.app.close();
    // published while nobody consumes: they wait in the durable queue
    for (const u of users.slice(8)) ids.push(await h.publish('user.email_verification_requested.v1', verification(u)));
    await h.restartApp();
    await h.inbox.waitFor((m) => users.some((u) => u.email === m.to), 12);
    await until('all 12 are logged as sent', async () => (await sentCount(ids)) === 12);
    for (const u of users) expect(h.inbox.to(u.email), u.email).toHaveLength(1);
  });

  it('when the service process is killed with SIGKILL mid-flow and restarted, then every mail arrives exactly once', async () => {
    // run the service as a child process only: close the in-process one
    await h.app.close();
    const script = fileURLToPath(new URL('./support/child-main.ts', import.meta.url));
    const startChild = async (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
        env: { ...process.env, ...h.env, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('CHILD_READY')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`child exited (${code}) before ready:\n${out}`)));
      });
      return child;
    };

    const users = Array.from({ length: 10 }, () => newUser());
    const ids = users.map(() => randomUUID());
    const first = await startChild();
    let accepted = 0;
    let kill: Promise<void> | undefined;
    // Set when the second process starts: a mail that came over a connection opened before
    // then is the first process's (its DATA may still be parsed after the kill) and is refused.
    let restartedAt = Infinity;
    // Accept two mails; when the third is in the middle of DATA (no 250 yet), wait until the
    // two accepted ones are committed, then kill -9 the sender. Mails held in DATA are never
    // accepted (exactly what a real MTA does with a dropped connection).
    h.inbox.hold = async (mail) => {
      if (mail.connectedAt >= restartedAt) return true; // the second process: accept all
      if (accepted < 2) {
        accepted += 1;
        return true;
      }
      kill ??= (async () => {
        await until('the two accepted mails are committed', async () => (await sentCountVia(ids)) === 2);
        first.kill('SIGKILL');
        await once(first, 'exit');
      })();
      await kill;
      return false;
    };
    // the harness's DataSource is closed with the app: read through a fresh one
    const { DataSource } = await import('typeorm');
    const probe = new DataSource({ type: 'postgres', url: h.env.DATABASE_URL });
    await probe.initialize();
    const sentCountVia = async (eventIds: string[]) =>
      ((await probe.query(`SELECT count(*)::int AS n FROM notify.sent_mail WHERE status = 'sent' AND event_id = ANY($1::uuid[])`, [eventIds])) as { n: number }[])[0]!.n;
    try {
      for (const [i, u] of users.entries()) await h.publish('user.email_verification_requested.v1', verification(u), { id: ids[i] });
      await until('the first process was killed', async () => kill !== undefined && first.signalCode === 'SIGKILL');
      expect(first.signalCode).toBe('SIGKILL');
      const mailsBefore = h.inbox.mails.filter((m) => users.some((u) => u.email === m.to)).length;
      expect(mailsBefore).toBe(2);

      restartedAt = Date.now();
      const second = await startChild();
      try {
        await h.inbox.waitFor((m) => users.some((u) => u.email === m.to), 10);
        await until('all 10 are logged as sent', async () => (await sentCountVia(ids)) === 10);
        for (const u of users) expect(h.inbox.to(u.email), u.email).toHaveLength(1);
      } finally {
        second.kill('SIGTERM');
        await once(second, 'exit');
      }
    } finally {
      h.inbox.hold = undefined;
      await probe.destroy();
      await h.restartApp(); // so cleanup has an app to close
    }
  });
});
