import { EntitySchema } from 'typeorm';
import { SCHEMA } from './schema.js';

/*
 * TypeORM metadata for user-service's tables (no decorators, no synchronize: the migrations in
 * ./migrations are the source of truth). Repositories use explicit SQL through the manager so
 * every lock and conflict rule is visible where it matters.
 */

/** `users.users`: accounts. */
export const UserEntity = new EntitySchema({
  name: 'User',
  tableName: 'users',
  schema: SCHEMA,
  columns: {
    id: { type: 'uuid', primary: true },
    email: { type: 'text', nullable: true },
    username: { type: 'text', nullable: true },
    display_name: { type: 'text' },
    email_verified_at: { type: 'timestamptz', nullable: true },
    opaque_record: { type: 'bytea', nullable: true },
    created_at: { type: 'timestamptz' },
    updated_at: { type: 'timestamptz' },
    deleted_at: { type: 'timestamptz', nullable: true },
  },
});

/** `users.sessions`: one per login (a refresh-token family). */
export const SessionEntity = new EntitySchema({
  name: 'Session',
  tableName: 'sessions',
  schema: SCHEMA,
  columns: {
    id: { type: 'uuid', primary: true },
    user_id: { type: 'uuid' },
    created_at: { type: 'timestamptz' },
    last_used_at: { type: 'timestamptz' },
    expires_at: { type: 'timestamptz' },
    user_agent: { type: 'text' },
    ip: { type: 'text' },
    revoked_at: { type: 'timestamptz', nullable: true },
    revoked_reason: { type: 'text', nullable: true },
  },
});

/** `users.refresh_tokens`: SHA-256 digests of refresh tokens, chained by `parent_id`. */
export const RefreshTokenEntity = new EntitySchema({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  schema: SCHEMA,
  columns: {
    id: { type: 'uuid', primary: true },
    session_id: { type: 'uuid' },
    user_id: { type: 'uuid' },
    token_digest: { type: 'bytea' },
    parent_id: { type: 'uuid', nullable: true },
    created_at: { type: 'timestamptz' },
    expires_at: { type: 'timestamptz' },
    used_at: { type: 'timestamptz', nullable: true },
  },
});

/** `users.one_time_tokens`: digests of email verification and password reset tokens. */
export const OneTimeTokenEntity = new EntitySchema({
  name: 'OneTimeToken',
  tableName: 'one_time_tokens',
  schema: SCHEMA,
  columns: {
    id: { type: 'uuid', primary: true },
    user_id: { type: 'uuid' },
    kind: { type: 'text' },
    token_digest: { type: 'bytea' },
    created_at: { type: 'timestamptz' },
    expires_at: { type: 'timestamptz' },
    used_at: { type: 'timestamptz', nullable: true },
  },
});

/** `users.audit_log`: security-relevant events per account. */
export const AuditLogEntity = new EntitySchema({
  name: 'AuditLog',
  tableName: 'audit_log',
  schema: SCHEMA,
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    user_id: { type: 'uuid', nullable: true },
    kind: { type: 'text' },
    ip: { type: 'text' },
    user_agent: { type: 'text' },
    details: { type: 'jsonb' },
    at: { type: 'timestamptz' },
  },
});

/** Every entity of user-service. */
export const entities = [UserEntity, SessionEntity, RefreshTokenEntity, OneTimeTokenEntity, AuditLogEntity];
