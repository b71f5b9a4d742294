import type { EntityManager } from 'typeorm';
import { SCHEMA } from './schema.js';

/** Every kind of audit row. */
export type AuditKind =
  | 'registered'
  | 'registration_attempted'
  | 'email_verified'
  | 'login_succeeded'
  | 'login_failed'
  | 'login_locked'
  | 'token_refreshed'
  | 'refresh_reuse_detected'
  | 'session_revoked'
  | 'password_changed'
  | 'password_reset_requested'
  | 'password_reset'
  | 'profile_updated'
  | 'account_deleted';

/** Who did it from where. */
export interface RequestMeta {
  /** Client IP (from the edge's X-Forwarded-For). */
  ip: string;
  /** User-Agent, truncated. */
  userAgent: string;
}

/**
 * Appends an audit row. Details never hold secrets, tokens or OPAQUE messages.
 * @param m manager (the business transaction, so the row exists iff the change does)
 * @param userId the account (null when unknown, e.g. a failed login for an unknown email)
 * @param kind what happened
 * @param meta ip and user agent
 * @param details extra non-secret facts
 */
export async function addAudit(
  m: EntityManager,
  userId: string | null,
  kind: AuditKind,
  meta: RequestMeta,
  details: Record<string, unknown> = {},
): Promise<void> {
  await m.query(
    `INSERT INTO "${SCHEMA}".audit_log (user_id, kind, ip, user_agent, details) VALUES ($1, $2, $3, $4, $5)`,
    [userId, kind, meta.ip, meta.userAgent, JSON.stringify(details)],
  );
}

/** An audit row as exported to its user. */
export interface AuditEntry {
  kind: string;
  ip: string;
  userAgent: string;
  details: unknown;
  at: string;
}

/**
 * A user's audit rows, newest first.
 * @param m manager
 * @param userId the user
 * @param limit how many
 * @returns rows
 */
export async function listAudit(
  m: EntityManager,
  userId: string,
  limit = 1000,
): Promise<AuditEntry[]> {
  const rows = (await m.query(
    `SELECT kind, ip, user_agent, details, at FROM "${SCHEMA}".audit_log WHERE user_id = $1 ORDER BY id DESC LIMIT $2`,
    [userId, limit],
  )) as { kind: string; ip: string; user_agent: string; details: unknown; at: Date }[];
  return rows.map((r) => ({
    kind: r.kind,
    ip: r.ip,
    userAgent: r.user_agent,
    details: r.details,
    at: r.at.toISOString(),
  }));
}
