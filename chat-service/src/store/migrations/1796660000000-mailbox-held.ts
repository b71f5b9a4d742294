import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Review 15: tallies of envelopes the send statement dropped instead of storing.
 *
 * - `chat.mailbox_held_from` (per recipient device and sender): envelopes of direct and self
 *   conversations dropped because the recipient blocked the sender or declined the
 *   conversation, while that device was offline. That sender's own mailbox-cap check counts
 *   them as if they were stored (and nobody else's: a blocked contact cannot take the room my
 *   other contacts need). A drain does not reset them: to the sender the device looks offline
 *   for ever, as everything else a blocked contact sees says; the retention job ages rows out
 *   with the mailbox (`updated_at`).
 * - `chat.mailbox_held.missed` (per device): group envelopes dropped because the device's
 *   mailbox was full (a group message is never refused for one member's full device).
 *   Reported to the device by its next complete drain (`mailbox:empty` `{ missed }`), which
 *   resets it.
 *
 * The send statement upserts rows in key order.
 */
export class MailboxHeld1796660000000 implements MigrationInterface {
  name = 'MailboxHeld1796660000000';

  /** @param q the migration's query runner */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE chat.mailbox_held (
        recipient_user uuid NOT NULL,
        recipient_device int NOT NULL,
        missed bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (recipient_user, recipient_device)
      ) WITH (fillfactor = 70)`);
    await q.query(`
      CREATE TABLE chat.mailbox_held_from (
        recipient_user uuid NOT NULL,
        recipient_device int NOT NULL,
        sender_user uuid NOT NULL,
        messages bigint NOT NULL DEFAULT 0,
        bytes bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (recipient_user, recipient_device, sender_user)
      ) WITH (fillfactor = 70)`);
    await q.query(`CREATE INDEX mailbox_held_from_updated ON chat.mailbox_held_from (updated_at)`);
    await q.query(`CREATE INDEX mailbox_held_from_sender ON chat.mailbox_held_from (sender_user)`);
  }

  /** @param q the migration's query runner */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS chat.mailbox_held_from`);
    await q.query(`DROP TABLE IF EXISTS chat.mailbox_held`);
  }
}
