import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createBusTables, dropBusTables } from '@cipherchat/service-kit';

/**
 * The chat schema: accounts (identity key per user), devices and their prekeys, key backups,
 * conversations and members, per-device mailboxes of ciphertext envelopes, sent-message
 * dedupe, attachments, identity changes, plus the outbox/inbox of the bus.
 */
export class Initial1763800000000 implements MigrationInterface {
  name = 'Initial1763800000000';

  /** @param q the migration's query runner */
  async up(q: QueryRunner): Promise<void> {
    await createBusTables(q, 'chat');
    await q.query(`
      CREATE TABLE chat.accounts (
        user_id uuid PRIMARY KEY,
        identity_key bytea,
        next_device_id int NOT NULL DEFAULT 1,
        -- set when a chat.message_queued.v1 went out; cleared (with chat.mailbox_drained.v1) when a device catches up
        pending_queued boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE chat.devices (
        user_id uuid NOT NULL REFERENCES chat.accounts(user_id) ON DELETE CASCADE,
        device_id int NOT NULL,
        name text NOT NULL,
        registration_id int,
        signed_prekey_id int,
        signed_prekey bytea,
        signed_prekey_signature bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        keys_updated_at timestamptz,
        PRIMARY KEY (user_id, device_id)
      )`);
    await q.query(`
      CREATE TABLE chat.one_time_prekeys (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL,
        device_id int NOT NULL,
        key_id int NOT NULL,
        public_key bytea NOT NULL,
        FOREIGN KEY (user_id, device_id) REFERENCES chat.devices(user_id, device_id) ON DELETE CASCADE,
        UNIQUE (user_id, device_id, key_id)
      )`);
    await q.query(`
      CREATE TABLE chat.identity_changes (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL,
        old_identity_key bytea NOT NULL,
        new_identity_key bytea NOT NULL,
        device_id int NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX identity_changes_user_idx ON chat.identity_changes (user_id, changed_at)`,
    );
    await q.query(`
      CREATE TABLE chat.backups (
        user_id uuid PRIMARY KEY,
        version int NOT NULL,
        blob bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE chat.conversations (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('direct', 'group')),
        title text,
        -- "<smaller uuid>:<larger uuid>" for direct conversations: exactly one per pair
        direct_key text UNIQUE,
        created_by uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
      )`);
    await q.query(`
      CREATE TABLE chat.conversation_members (
        conversation_id uuid NOT NULL REFERENCES chat.conversations(id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
        joined_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (conversation_id, user_id)
      )`);
    await q.query(
      `CREATE INDEX conversation_members_user_idx ON chat.conversation_members (user_id, conversation_id)`,
    );
    await q.query(`
      CREATE TABLE chat.messages (
        sender_user uuid NOT NULL,
        client_message_id text NOT NULL,
        message_id uuid NOT NULL,
        conversation_id uuid NOT NULL,
        sender_device int NOT NULL,
        server_ts timestamptz NOT NULL,
        PRIMARY KEY (sender_user, client_message_id)
      )`);
    await q.query(`CREATE INDEX messages_server_ts_idx ON chat.messages USING brin (server_ts)`);
    await q.query(`
      CREATE TABLE chat.mailbox (
        seq bigserial PRIMARY KEY,
        message_id uuid NOT NULL,
        recipient_user uuid NOT NULL,
        recipient_device int NOT NULL,
        conversation_id uuid NOT NULL,
        sender_user uuid NOT NULL,
        sender_device int NOT NULL,
        type smallint NOT NULL,
        body bytea NOT NULL,
        server_ts timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX mailbox_device_seq_idx ON chat.mailbox (recipient_user, recipient_device, seq)`,
    );
    await q.query(
      `CREATE UNIQUE INDEX mailbox_device_message_idx ON chat.mailbox (recipient_user, recipient_device, message_id)`,
    );
    await q.query(`CREATE INDEX mailbox_server_ts_idx ON chat.mailbox USING brin (server_ts)`);
    await q.query(`
      CREATE TABLE chat.attachments (
        id uuid PRIMARY KEY,
        owner_user uuid NOT NULL,
        conversation_id uuid NOT NULL,
        size bigint NOT NULL,
        storage text NOT NULL CHECK (storage IN ('local', 'cloudinary')),
        storage_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX attachments_expires_idx ON chat.attachments (expires_at)`);
    await q.query(`CREATE INDEX attachments_owner_idx ON chat.attachments (owner_user)`);
    await q.query(`
      CREATE TABLE chat.deleted_users (
        user_id uuid PRIMARY KEY,
        deleted_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  /** @param q the migration's query runner */
  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'deleted_users',
      'attachments',
      'mailbox',
      'messages',
      'conversation_members',
      'conversations',
      'backups',
      'identity_changes',
      'one_time_prekeys',
      'devices',
      'accounts',
    ]) {
      await q.query(`DROP TABLE IF EXISTS chat.${t}`);
    }
    await dropBusTables(q, 'chat');
  }
}
