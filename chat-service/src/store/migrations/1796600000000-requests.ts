import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15 "Abuse resistance": message requests, blocking, privacy settings and reports.
 *
 * - `conversation_members.state`: `request` while the member has not accepted a conversation
 *   that someone they never talked to put them in; `accepted` otherwise (every existing
 *   membership: people already talking keep talking); `declined` once they declined it: the
 *   conversation is gone from their list and the server quietly drops what is sent to them in it
 *   (the membership stays, so the sender is not told).
 * - `blocks`: who blocked whom. The server quietly stores nothing from a blocked sender for
 *   the blocker, and hides each from the other's presence.
 * - `privacy_settings`: what a user shares (read receipts, typing, last seen); no row means
 *   the defaults (all on).
 * - `reports`: reports for the operators. Only ids, a reason and the reporter's note; never
 *   message content (the server has none).
 */
export class Requests1796600000000 implements MigrationInterface {
  name = 'Requests1796600000000';

  /** @param q the migration's query runner */
  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE chat.conversation_members ADD COLUMN state text NOT NULL DEFAULT 'accepted' CHECK (state IN ('accepted', 'request', 'declined'))`,
    );
    await q.query(`
      CREATE TABLE chat.blocks (
        blocker_id uuid NOT NULL,
        blocked_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (blocker_id, blocked_id),
        CHECK (blocker_id <> blocked_id)
      )`);
    await q.query(`CREATE INDEX blocks_blocked_idx ON chat.blocks (blocked_id)`);
    await q.query(`
      CREATE TABLE chat.privacy_settings (
        user_id uuid PRIMARY KEY,
        read_receipts boolean NOT NULL DEFAULT true,
        typing boolean NOT NULL DEFAULT true,
        last_seen boolean NOT NULL DEFAULT true,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE chat.reports (
        id uuid PRIMARY KEY,
        reporter_id uuid NOT NULL,
        reported_id uuid NOT NULL,
        conversation_id uuid,
        reason text NOT NULL CHECK (reason IN ('spam', 'abuse', 'other')),
        note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX reports_reported_idx ON chat.reports (reported_id, created_at)`);
  }

  /** @param q the migration's query runner */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS chat.reports`);
    await q.query(`DROP TABLE IF EXISTS chat.privacy_settings`);
    await q.query(`DROP TABLE IF EXISTS chat.blocks`);
    await q.query(`ALTER TABLE chat.conversation_members DROP COLUMN IF EXISTS state`);
  }
}
