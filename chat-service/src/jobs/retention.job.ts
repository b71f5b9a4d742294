import type { DataSource } from 'typeorm';
import type { ChatDeps } from '../domain/deps.js';
import { expireOldData } from '../domain/accounts.js';

/** A periodic job handle. */
export interface Job {
  /** Runs once now (tests call it). */
  runOnce(): Promise<{ envelopes: number; attachments: number }>;
  stop(): Promise<void>;
}

/**
 * Expires envelopes older than MESSAGE_RETENTION_DAYS (and the dedupe rows of that age) and
 * attachments past their expiry. Only one process runs it at a time (advisory lock); the
 * others skip that round.
 * @param deps use-case dependencies
 * @param ds the DataSource (one connection holds the advisory lock)
 * @returns the job
 */
export function startRetentionJob(deps: ChatDeps, ds: DataSource): Job {
  let running: Promise<{ envelopes: number; attachments: number }> | undefined;
  const runOnce = () => {
    running ??= (async () => {
      // A session-level advisory lock on one connection, and no surrounding transaction: every
      // batch commits on its own (see expireMailbox), while the lock keeps other processes out
      // for the whole run. If the connection dies, PostgreSQL drops the lock with it.
      const runner = ds.createQueryRunner();
      try {
        await runner.connect();
        const [lock] = (await runner.query(`SELECT pg_try_advisory_lock(hashtext('chat:retention')) AS locked`)) as { locked: boolean }[];
        if (!lock?.locked) return { envelopes: 0, attachments: 0 };
        try {
          return await expireOldData(deps, runner.manager);
        } finally {
          await runner.query(`SELECT pg_advisory_unlock(hashtext('chat:retention'))`);
        }
      } finally {
        await runner.release();
        running = undefined;
      }
    })();
    return running;
  };
  const timer = setInterval(() => {
    runOnce().catch((err: unknown) => deps.log.warn({ err: (err as Error).message }, 'retention job failed'));
  }, deps.config.RETENTION_INTERVAL_MS);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
