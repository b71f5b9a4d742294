import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createBusTables, dropBusTables } from '@cipherchat/service-kit';

/**
 * The notify schema: what this service remembers about users (from user-service events),
 * their preferences, the sent-mail log, and pending digests. No tokens or links are ever
 * stored; recipients appear in the log only as keyed hashes.
 */
export class InitNotify1763790000000 implements MigrationInterface {
  /** @param q the query runner */
  async up(q: QueryRunner): Promise<void> {
    await createBusTables(q, 'notify');
    await q.query(`
      CREATE TABLE notify.users (
        user_id uuid PRIMARY KEY,
        email text NOT NULL,
        username text NOT NULL,
        display_name text NOT NULL,
        email_verified boolean NOT NULL DEFAULT false,
        -- occurredAt of the newest event applied: events from different queues may arrive
        -- out of order, and an older fact must not overwrite a newer one
        facts_at timestamptz NOT NULL,
        welcomed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE notify.preferences (
        user_id uuid PRIMARY KEY,
        welcome boolean NOT NULL DEFAULT true,
        new_login boolean NOT NULL DEFAULT true,
        digest boolean NOT NULL DEFAULT true,
        digest_delay_minutes int CHECK (digest_delay_minutes BETWEEN 1 AND 1440),
        digest_content text NOT NULL DEFAULT 'sender' CHECK (digest_content IN ('sender', 'generic')),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE notify.sent_mail (
        id bigserial PRIMARY KEY,
        event_id uuid NOT NULL,
        kind text NOT NULL,
        user_id uuid,
        recipient_hash text,
        message_id text,
        status text NOT NULL CHECK (status IN ('sent', 'suppressed')),
        reason text,
        sent_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (event_id, kind)
      )`);
    await q.query(`CREATE INDEX sent_mail_recipient_idx ON notify.sent_mail (recipient_hash, sent_at) WHERE status = 'sent'`);
    await q.query(`CREATE INDEX sent_mail_user_idx ON notify.sent_mail (user_id)`);
    await q.query(`
      CREATE TABLE notify.digests (
        user_id uuid PRIMARY KEY,
        digest_id uuid,
        due_at timestamptz,
        attempts int NOT NULL DEFAULT 0,
        last_sent_at timestamptz
      )`);
    await q.query(`CREATE INDEX digests_due_idx ON notify.digests (due_at) WHERE due_at IS NOT NULL`);
    await q.query(`
      CREATE TABLE notify.digest_items (
        user_id uuid NOT NULL,
        message_id uuid NOT NULL,
        sender_user_id uuid NOT NULL,
        queued_at timestamptz NOT NULL,
        PRIMARY KEY (user_id, message_id)
      )`);
  }

  /** @param q the query runner */
  async down(q: QueryRunner): Promise<void> {
    for (const t of ['digest_items', 'digests', 'sent_mail', 'preferences', 'users']) await q.query(`DROP TABLE IF EXISTS notify.${t}`);
    await dropBusTables(q, 'notify');
  }
}
