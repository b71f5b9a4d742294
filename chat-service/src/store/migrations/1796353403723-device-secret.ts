import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-device authentication: `chat.devices.secret_digest` holds the SHA-256 of the secret a
 * device received when it registered (the secret itself is never stored).
 *
 * Devices registered before this migration have no secret and could never prove who they are
 * again, so they are removed here like a user removing them (their prekeys go by cascade, their
 * mailboxes with them): kept, they would stay in every sender's device set, collect envelopes
 * nobody can fetch and count against `MAX_DEVICES`. Clients that still hold such a device id
 * register a new device (ids are not reused: `accounts.next_device_id` is left alone). With
 * no legacy rows left, the column is NOT NULL for every row.
 */
export class DeviceSecret1796353403723 implements MigrationInterface {
  name = 'DeviceSecret1796353403723';

  /** @param q the migration's query runner */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE chat.devices ADD COLUMN secret_digest bytea`);
    await q.query(`
      DELETE FROM chat.mailbox m
       USING chat.devices d
       WHERE d.secret_digest IS NULL AND m.recipient_user = d.user_id AND m.recipient_device = d.device_id`);
    await q.query(`DELETE FROM chat.devices WHERE secret_digest IS NULL`);
    await q.query(`ALTER TABLE chat.devices ALTER COLUMN secret_digest SET NOT NULL`);
  }

  /** @param q the migration's query runner */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE chat.devices DROP COLUMN IF EXISTS secret_digest`);
  }
}
