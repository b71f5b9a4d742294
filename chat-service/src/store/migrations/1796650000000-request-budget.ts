import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15: per-(sender, recipient) budgets for sends to someone who has not accepted the
 * sender's conversation (a message request), declined it or blocked the sender.
 *
 * The request caps used to count what waits in the recipient device's mailbox. That answer
 * changed when the device drained (the sender learned when the recipient came online) and
 * never came after a block or a decline (whose envelopes are dropped: the sender learned they
 * were blocked), and one stranger filling the mailbox shut out every other one. A budget per
 * pair and fixed window does not depend on draining: every such send that is stored, or
 * dropped quietly, spends it, so the sender's answers are the same whatever the recipient did.
 *
 * One row per (sender, recipient) pair: the window's start, and the messages and envelope
 * bytes spent in it. The send statement reads and upserts it (only for such recipients);
 * a row whose window has passed counts as empty and is restarted by the next send. The
 * retention job deletes rows whose window has passed.
 */
export class RequestBudget1796650000000 implements MigrationInterface {
  name = 'RequestBudget1796650000000';

  /** @param q the migration's query runner */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE chat.request_budget (
        sender_user uuid NOT NULL,
        recipient_user uuid NOT NULL,
        window_start timestamptz NOT NULL,
        messages int NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (sender_user, recipient_user)
      ) WITH (fillfactor = 70)`);
    await q.query(`CREATE INDEX request_budget_window_idx ON chat.request_budget (window_start)`);
  }

  /** @param q the migration's query runner */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS chat.request_budget`);
  }
}
