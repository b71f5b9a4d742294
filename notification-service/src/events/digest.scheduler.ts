import { EventEmitter } from 'node:events';
import type { DataSource } from 'typeorm';
import { backoffMs } from '../domain/policy.js';
import { getPreferences } from '../store/preferences.repository.js';
import { displayNames, findUser } from '../store/user.repository.js';
import { claimDueDigest, closeDigest, digestItems, postponeDigest } from '../store/digest.repository.js';
import { deliver, type DeliverOutcome, type Notifier } from './notifier.js';

/** What one digest run did for one user (emitted as `digest`; tests await it). */
export interface DigestResult {
  userId: string;
  digestId: string;
  /** Unread messages it covered. */
  count: number;
  outcome: DeliverOutcome | 'empty' | 'failed' | 'dropped';
  /** SMTP error for `failed` / `dropped`. */
  error?: string;
}

/**
 * The timer loop that mails due digests. Emits `digest` (a {@link DigestResult}) per digest
 * claimed and `pass` (the results) after each run.
 */
export interface DigestScheduler extends EventEmitter {
  /**
   * Sends every digest due at `now` (tests pass a future time instead of sleeping).
   * @param now the clock
   * @returns what happened, one entry per digest claimed
   */
  runDue(now?: Date): Promise<DigestResult[]>;
  /** Stops the timer and waits for the run in flight. */
  stop(): Promise<void>;
}

/**
 * Starts the digest scheduler: every `DIGEST_POLL_MS` it claims due digests one at a time,
 * each in its own transaction (`FOR UPDATE SKIP LOCKED`, so replicas share the work without
 * doubling it), re-checks preferences and verification, and mails one summary: count and
 * sender names, or generic text; never content. A failed send is retried with backoff up to
 * DIGEST_MAX_ATTEMPTS, then dropped with an error log.
 * @param deps data source and notifier
 * @returns the scheduler
 */
export function startDigestScheduler(deps: { ds: DataSource; notifier: Notifier }): DigestScheduler {
  const { ds, notifier: n } = deps;
  const { config, logger } = n;
  const emitter = new EventEmitter() as DigestScheduler;
  let stopped = false;
  let running: Promise<unknown> | undefined;

  const runOne = (now: Date): Promise<DigestResult | undefined> =>
    ds.transaction(async (m) => {
      const claim = await claimDueDigest(m, now);
      if (!claim) return undefined;
      const items = await digestItems(m, claim.userId);
      const base = { userId: claim.userId, digestId: claim.digestId, count: items.length };
      if (items.length === 0) {
        await closeDigest(m, claim.userId, [], false);
        return { ...base, outcome: 'empty' as const };
      }
      const [user, prefs] = [await findUser(m, claim.userId), await getPreferences(m, claim.userId)];
      // senders with the most messages first, so "from Alice and 2 others" names the busiest
      const perSender = new Map<string, number>();
      for (const i of items) perSender.set(i.senderUserId, (perSender.get(i.senderUserId) ?? 0) + 1);
      const names = await displayNames(m, [...perSender.keys()]);
      const senders = [...perSender.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([id]) => names.get(id))
        .filter((s): s is string => !!s);
      let outcome: DeliverOutcome;
      try {
        outcome = await deliver(n, m, {
          eventId: claim.digestId,
          userId: claim.userId,
          to: user?.email ?? '',
          input: { kind: 'digest', displayName: user?.displayName ?? '', count: items.length, senders, content: prefs.digestContent },
          emailVerified: user?.emailVerified,
          prefs,
        });
      } catch (err) {
        const attempts = claim.attempts + 1;
        const error = (err as Error).message;
        if (attempts >= config.DIGEST_MAX_ATTEMPTS) {
          logger.error({ userId: claim.userId, digestId: claim.digestId, attempts, error }, 'digest failed every attempt; dropped');
          await closeDigest(m, claim.userId, items.map((i) => i.messageId), false);
          return { ...base, outcome: 'dropped' as const, error };
        }
        const delay = backoffMs(attempts, config.RETRY_BASE_MS, config.RETRY_MAX_MS);
        logger.warn({ userId: claim.userId, digestId: claim.digestId, attempts, delay, error }, 'digest send failed; will retry');
        await postponeDigest(m, claim.userId, new Date(now.getTime() + delay));
        return { ...base, outcome: 'failed' as const, error };
      }
      await closeDigest(m, claim.userId, items.map((i) => i.messageId), outcome === 'sent');
      return { ...base, outcome };
    });

  const runDue = async (now = new Date()): Promise<DigestResult[]> => {
    const results: DigestResult[] = [];
    // A few workers, each claiming one digest per transaction (SKIP LOCKED keeps them apart):
    // a slow SMTP conversation holds one row lock, not a batch, and sends overlap.
    const worker = async () => {
      for (;;) {
        if (stopped) return;
        const r = await runOne(now);
        if (!r) return;
        results.push(r);
        emitter.emit('digest', r);
        // a failed row was pushed past `now`, so it can't be claimed again in this run
      }
    };
    await Promise.all(Array.from({ length: config.DIGEST_CONCURRENCY }, worker));
    emitter.emit('pass', results);
    return results;
  };

  const tick = () => {
    if (stopped || running) return;
    running = runDue()
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'digest run failed; will retry'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, config.DIGEST_POLL_MS);
  timer.unref();

  emitter.runDue = runDue;
  emitter.stop = async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
  return emitter;
}
