import type { ChatContext } from '../context.js';
import { deleteAttachments } from '../store/attachment.repository.js';
import { expireMailbox } from '../store/mailbox.repository.js';

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
 * @param ctx shared context
 * @returns the job
 */
export function startRetentionJob(ctx: ChatContext): Job {
  let running: Promise<{ envelopes: number; attachments: number }> | undefined;
  const runOnce = () => {
    running ??= (async () => {
      // A session-level advisory lock on one connection, and no surrounding transaction: every
      // batch commits on its own (see expireMailbox), while the lock keeps other processes out
      // for the whole run. If the connection dies, PostgreSQL drops the lock with it.
      const runner = ctx.ds.createQueryRunner();
      try {
        await runner.connect();
        const [lock] = (await runner.query(`SELECT pg_try_advisory_lock(hashtext('chat:retention')) AS locked`)) as { locked: boolean }[];
        if (!lock?.locked) return { envelopes: 0, attachments: 0 };
        try {
          const m = runner.manager;
          const cutoff = new Date(Date.now() - ctx.config.MESSAGE_RETENTION_DAYS * 86_400_000);
          const envelopes = await expireMailbox(m, cutoff);
          const gone = await deleteAttachments(m, { expiredBefore: new Date() });
          for (const a of gone) await ctx.blobs.remove(a.storageKey).catch(() => undefined);
          if (envelopes || gone.length) ctx.logger.info({ envelopes, attachments: gone.length }, 'retention: expired');
          return { envelopes, attachments: gone.length };
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
    runOnce().catch((err: unknown) => ctx.logger.warn({ err: (err as Error).message }, 'retention job failed'));
  }, ctx.config.RETENTION_INTERVAL_MS);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
