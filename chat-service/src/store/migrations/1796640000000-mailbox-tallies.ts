import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MailboxUsage1796610000000 } from './1796610000000-mailbox-usage.js';

/**
 * Mailbox counters that sends and acks never wait for each other on.
 *
 * `mailbox_usage` (1796610000000) held one row per device that both the send statement (on
 * insert) and the ack, retention and deletion statements (on delete) updated. An ack batch
 * touches most online devices, a send batch many of them: each waited for the other's row
 * locks, and a send holds its locks until its commit has been flushed, so acks and sends took
 * turns. Now each device has two monotone tallies: `mailbox_added` (only inserts into
 * `chat.mailbox` raise it) and `mailbox_removed` (only deletes raise it). What waits is their
 * difference, read without locks by the send statement; `chat.mailbox_usage` stays as a view
 * of it. Both are kept by statement-level triggers with transition tables (one upsert per
 * statement and device, in key order, so concurrent statements of one kind cannot deadlock).
 */
export class MailboxTallies1796640000000 implements MigrationInterface {
  name = 'MailboxTallies1796640000000';

  /** @param q the migration's query runner */
  async up(q: QueryRunner): Promise<void> {
    // no send or ack between the recount below and the new triggers
    await q.query(`LOCK TABLE chat.mailbox IN SHARE ROW EXCLUSIVE MODE`);
    await q.query(`DROP TRIGGER mailbox_usage_delete ON chat.mailbox`);
    await q.query(`DROP TRIGGER mailbox_usage_insert ON chat.mailbox`);
    await q.query(`DROP FUNCTION chat.mailbox_usage_sub()`);
    await q.query(`DROP FUNCTION chat.mailbox_usage_add()`);
    await q.query(`DROP TABLE chat.mailbox_usage`);
    for (const table of ['mailbox_added', 'mailbox_removed']) {
      await q.query(`
        CREATE TABLE chat.${table} (
          recipient_user uuid NOT NULL,
          recipient_device int NOT NULL,
          messages bigint NOT NULL DEFAULT 0,
          bytes bigint NOT NULL DEFAULT 0,
          PRIMARY KEY (recipient_user, recipient_device)
        ) WITH (fillfactor = 70)`);
    }
    await q.query(`
      INSERT INTO chat.mailbox_added (recipient_user, recipient_device, messages, bytes)
      SELECT recipient_user, recipient_device, count(*), sum(octet_length(body)) FROM chat.mailbox GROUP BY 1, 2`);
    await q.query(`
      CREATE VIEW chat.mailbox_usage AS
      SELECT a.recipient_user, a.recipient_device,
             (a.messages - coalesce(r.messages, 0))::int AS messages, a.bytes - coalesce(r.bytes, 0) AS bytes
        FROM chat.mailbox_added a
        LEFT JOIN chat.mailbox_removed r ON r.recipient_user = a.recipient_user AND r.recipient_device = a.recipient_device`);
    for (const [fn, table, rows] of [
      ['mailbox_tally_added', 'mailbox_added', 'added'],
      ['mailbox_tally_removed', 'mailbox_removed', 'removed'],
    ] as const) {
      await q.query(`
        CREATE FUNCTION chat.${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO chat.${table} AS t (recipient_user, recipient_device, messages, bytes)
          SELECT recipient_user, recipient_device, count(*), sum(octet_length(body)) FROM ${rows}
           GROUP BY 1, 2 ORDER BY 1, 2
          ON CONFLICT (recipient_user, recipient_device)
          DO UPDATE SET messages = t.messages + excluded.messages, bytes = t.bytes + excluded.bytes;
          RETURN NULL;
        END $$`);
    }
    await q.query(`
      CREATE TRIGGER mailbox_tally_insert AFTER INSERT ON chat.mailbox
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION chat.mailbox_tally_added()`);
    await q.query(`
      CREATE TRIGGER mailbox_tally_delete AFTER DELETE ON chat.mailbox
        REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION chat.mailbox_tally_removed()`);
  }

  /** @param q the migration's query runner */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE chat.mailbox IN SHARE ROW EXCLUSIVE MODE`);
    await q.query(`DROP TRIGGER IF EXISTS mailbox_tally_delete ON chat.mailbox`);
    await q.query(`DROP TRIGGER IF EXISTS mailbox_tally_insert ON chat.mailbox`);
    await q.query(`DROP FUNCTION IF EXISTS chat.mailbox_tally_removed()`);
    await q.query(`DROP FUNCTION IF EXISTS chat.mailbox_tally_added()`);
    await q.query(`DROP VIEW IF EXISTS chat.mailbox_usage`);
    await q.query(`DROP TABLE IF EXISTS chat.mailbox_removed`);
    await q.query(`DROP TABLE IF EXISTS chat.mailbox_added`);
    // the previous single-row counters, recounted from the rows
    await new MailboxUsage1796610000000().up(q);
  }
}
