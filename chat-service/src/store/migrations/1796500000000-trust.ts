import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 14 "Trust": the server keeps less that clients choose, and enforces conversation shapes.
 *
 * - Device names: the server stores none any more (they travel end to end between the
 *   account's devices). Existing names are blanked; `name` stays as an always-empty column so
 *   `GET /devices` keeps its field for outside clients.
 * - Self conversations (`kind = 'self'`): one per user (unique on `created_by`), whose only
 *   member is that user: the channel between the account's own devices.
 * - Conversation shapes, enforced by the database whatever the code above it does: a trigger
 *   refuses a member row that would give a direct conversation more than two members or a self
 *   conversation more than one. It locks the conversation row (`FOR NO KEY UPDATE`, which does
 *   not conflict with the foreign keys' `FOR KEY SHARE`) so two concurrent inserts cannot both
 *   see room for one more.
 * - Group titles: new groups get none (titles travel end to end in group control messages).
 *   Existing titles stay until a client of the group migrates the title into such a message and
 *   clears it (`PATCH /conversations/:id {title: null}`); the server cannot move them itself.
 */
export class Trust1796500000000 implements MigrationInterface {
  name = 'Trust1796500000000';

  /** @param q the migration's query runner */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE chat.devices SET name = '' WHERE name <> ''`);
    await q.query(`ALTER TABLE chat.devices ALTER COLUMN name SET DEFAULT ''`);
    await q.query(
      `COMMENT ON COLUMN chat.devices.name IS 'always empty: device names travel end to end, the server stores none'`,
    );

    await q.query(`ALTER TABLE chat.conversations DROP CONSTRAINT conversations_kind_check`);
    await q.query(
      `ALTER TABLE chat.conversations ADD CONSTRAINT conversations_kind_check CHECK (kind IN ('direct', 'group', 'self'))`,
    );
    await q.query(
      `ALTER TABLE chat.conversations ADD CONSTRAINT conversations_title_groups_only CHECK (kind = 'group' OR title IS NULL)`,
    );
    await q.query(
      `CREATE UNIQUE INDEX conversations_self_uq ON chat.conversations (created_by) WHERE kind = 'self'`,
    );
    await q.query(
      `COMMENT ON COLUMN chat.conversations.title IS 'legacy group titles only: new groups have none; a client of the group clears it once it moved the title into an end-to-end control message'`,
    );

    await q.query(`
      CREATE FUNCTION chat.conversation_members_shape() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        conv_kind text;
        n int;
      BEGIN
        SELECT kind INTO conv_kind FROM chat.conversations WHERE id = NEW.conversation_id;
        IF conv_kind IS NULL OR conv_kind = 'group' THEN
          RETURN NULL;
        END IF;
        -- serialise member changes of this conversation, then count what is committed plus ours
        PERFORM 1 FROM chat.conversations WHERE id = NEW.conversation_id FOR NO KEY UPDATE;
        SELECT count(*) INTO n FROM chat.conversation_members WHERE conversation_id = NEW.conversation_id;
        IF n > (CASE conv_kind WHEN 'direct' THEN 2 ELSE 1 END) THEN
          RAISE EXCEPTION 'a % conversation cannot have % members', conv_kind, n USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER conversation_members_shape AFTER INSERT OR UPDATE OF conversation_id ON chat.conversation_members
        FOR EACH ROW EXECUTE FUNCTION chat.conversation_members_shape()`);
  }

  /** @param q the migration's query runner */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS conversation_members_shape ON chat.conversation_members`);
    await q.query(`DROP FUNCTION IF EXISTS chat.conversation_members_shape()`);
    await q.query(`DELETE FROM chat.conversations WHERE kind = 'self'`);
    await q.query(`DROP INDEX IF EXISTS chat.conversations_self_uq`);
    await q.query(
      `ALTER TABLE chat.conversations DROP CONSTRAINT IF EXISTS conversations_title_groups_only`,
    );
    await q.query(`ALTER TABLE chat.conversations DROP CONSTRAINT conversations_kind_check`);
    await q.query(
      `ALTER TABLE chat.conversations ADD CONSTRAINT conversations_kind_check CHECK (kind IN ('direct', 'group'))`,
    );
    await q.query(`ALTER TABLE chat.devices ALTER COLUMN name DROP DEFAULT`);
  }
}
