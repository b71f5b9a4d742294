import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15 "Abuse resistance": per-device mailbox counters for the mailbox caps.
 *
 * `mailbox_usage` holds, per recipient device, how many envelopes and ciphertext bytes wait in
 * its mailbox. Statement-level triggers keep it exact on every path that adds or removes
 * mailbox rows (the batched send, acks, retention, device and account deletion), one upsert
 * per statement and device rather than one per row. Rows are locked in key order, so the
 * writer's and the acks' updates cannot deadlock. The send statement reads it to refuse a send
 * that would overfill a mailbox (a primary-key lookup per addressed device).
 */
export class MailboxUsage1796610000000 implements MigrationInterface {
  name = 'MailboxUsage1796610000000';

  /** @param q the migration's query runner */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE chat.mailbox_usage (
        recipient_user uuid NOT NULL,
        recipient_device int NOT NULL,
        messages int NOT NULL DEFAULT 0,
        bytes bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (recipient_user, recipient_device)
      ) WITH (fillfactor = 70)`);
    await q.query(`
      INSERT INTO chat.mailbox_usage (recipient_user, recipient_device, messages, bytes)
      SELECT recipient_user, recipient_device, count(*), sum(octet_length(body)) FROM chat.mailbox GROUP BY 1, 2`);
    await q.query(`
      CREATE FUNCTION chat.mailbox_usage_add() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO chat.mailbox_usage AS u (recipient_user, recipient_device, messages, bytes)
        SELECT recipient_user, recipient_device, count(*), sum(octet_length(body)) FROM added
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (recipient_user, recipient_device)
        DO UPDATE SET messages = u.messages + excluded.messages, bytes = u.bytes + excluded.bytes;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION chat.mailbox_usage_sub() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM 1 FROM chat.mailbox_usage u
          WHERE (u.recipient_user, u.recipient_device) IN (SELECT recipient_user, recipient_device FROM removed)
          ORDER BY u.recipient_user, u.recipient_device
          FOR UPDATE;
        UPDATE chat.mailbox_usage u SET messages = u.messages - r.n, bytes = u.bytes - r.b
          FROM (SELECT recipient_user, recipient_device, count(*) AS n, sum(octet_length(body)) AS b FROM removed GROUP BY 1, 2) r
         WHERE u.recipient_user = r.recipient_user AND u.recipient_device = r.recipient_device;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER mailbox_usage_insert AFTER INSERT ON chat.mailbox
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION chat.mailbox_usage_add()`);
    await q.query(`
      CREATE TRIGGER mailbox_usage_delete AFTER DELETE ON chat.mailbox
        REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION chat.mailbox_usage_sub()`);
  }

  /** @param q the migration's query runner */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS mailbox_usage_delete ON chat.mailbox`);
    await q.query(`DROP TRIGGER IF EXISTS mailbox_usage_insert ON chat.mailbox`);
    await q.query(`DROP FUNCTION IF EXISTS chat.mailbox_usage_sub()`);
    await q.query(`DROP FUNCTION IF EXISTS chat.mailbox_usage_add()`);
    await q.query(`DROP TABLE IF EXISTS chat.mailbox_usage`);
  }
}
