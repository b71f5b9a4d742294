import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Review 15: per-device tallies of envelopes the send statement dropped instead of storing.
 *
 * - `messages`, `bytes`: envelopes of direct and self conversations dropped because the
 *   recipient blocked the sender or declined the conversation, since that device last acked
 *   or drained its mailbox. The mailbox cap counts them as if they were stored, so a blocked
 *   sender runs into `mailbox_full` exactly when a non-blocked one would (the block is not
 *   told by the cap). Reset to 0 by the device's next ack or complete drain.
 * - `missed`: group envelopes dropped because the device's mailbox was full (a group message
 *   is never refused for one member's full device). Reported to the device by its next
 *   complete drain (`mailbox:empty` `{ missed }`), which resets it.
 *
 * One row per device that ever had one of those; the send statement upserts rows in key order.
 */
export class MailboxHeld1796660000000 implements MigrationInterface {
  name = 'MailboxHeld1796660000000';

  /** @param q the migration's query runner */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE chat.mailbox_held (
        recipient_user uuid NOT NULL,
        recipient_device int NOT NULL,
        messages bigint NOT NULL DEFAULT 0,
        bytes bigint NOT NULL DEFAULT 0,
        missed bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (recipient_user, recipient_device)
      ) WITH (fillfactor = 70)`);
  }

  /** @param q the migration's query runner */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS chat.mailbox_held`);
  }
}
