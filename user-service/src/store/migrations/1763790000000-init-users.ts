import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createBusTables, dropBusTables } from '@cipherchat/service-kit';
import { SCHEMA } from '../schema.js';

/**
 * The first user-service schema: accounts, sessions (refresh-token families), refresh tokens,
 * one-time tokens (email verification, password reset), the audit log, outbox and inbox.
 * Secrets at rest are only ever SHA-256 digests (tokens) or the OPAQUE record (which is not a
 * password equivalent: it cannot be used to log in without the password).
 */
export class InitUsers1763790000000 implements MigrationInterface {
  /** Migration name recorded in the migrations table. */
  name = 'InitUsers1763790000000';

  /** @param q the query runner */
  async up(q: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    // Trigram index support for the directory search. The extension lives in `public` so
    // every schema can use it; IF NOT EXISTS keeps concurrent replicas and reruns safe.
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`);
    await q.query(`
      CREATE TABLE ${s}.users (
        id uuid PRIMARY KEY,
        email text,
        username text,
        display_name text NOT NULL,
        email_verified_at timestamptz,
        opaque_record bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        CONSTRAINT users_email_lower CHECK (email = lower(email)),
        CONSTRAINT users_username_lower CHECK (username = lower(username)),
        CONSTRAINT users_live_has_identity CHECK (deleted_at IS NOT NULL OR (email IS NOT NULL AND username IS NOT NULL AND opaque_record IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_uq ON ${s}.users (email) WHERE email IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX users_username_uq ON ${s}.users (username) WHERE username IS NOT NULL`);
    await q.query(`CREATE INDEX users_username_trgm ON ${s}.users USING gin (username public.gin_trgm_ops)`);
    await q.query(`CREATE INDEX users_display_name_trgm ON ${s}.users USING gin (lower(display_name) public.gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE ${s}.sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES ${s}.users (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        user_agent text NOT NULL DEFAULT '',
        ip text NOT NULL DEFAULT '',
        revoked_at timestamptz,
        revoked_reason text
      )`);
    await q.query(`CREATE INDEX sessions_user_idx ON ${s}.sessions (user_id) WHERE revoked_at IS NULL`);

    await q.query(`
      CREATE TABLE ${s}.refresh_tokens (
        id uuid PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES ${s}.sessions (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES ${s}.users (id),
        token_digest bytea NOT NULL UNIQUE,
        parent_id uuid REFERENCES ${s}.refresh_tokens (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_tokens_session_idx ON ${s}.refresh_tokens (session_id)`);

    await q.query(`
      CREATE TABLE ${s}.one_time_tokens (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES ${s}.users (id),
        kind text NOT NULL CHECK (kind IN ('verify_email', 'password_reset')),
        token_digest bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX one_time_tokens_user_idx ON ${s}.one_time_tokens (user_id, kind)`);

    await q.query(`
      CREATE TABLE ${s}.audit_log (
        id bigserial PRIMARY KEY,
        user_id uuid REFERENCES ${s}.users (id),
        kind text NOT NULL,
        ip text NOT NULL DEFAULT '',
        user_agent text NOT NULL DEFAULT '',
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_log_user_idx ON ${s}.audit_log (user_id, at)`);

    await createBusTables(q, SCHEMA);
  }

  /** @param q the query runner */
  async down(q: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await dropBusTables(q, SCHEMA);
    for (const t of ['audit_log', 'one_time_tokens', 'refresh_tokens', 'sessions', 'users']) {
      await q.query(`DROP TABLE IF EXISTS ${s}.${t}`);
    }
  }
}
