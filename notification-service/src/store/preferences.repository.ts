import type { EntityManager } from 'typeorm';
import type { DigestContent } from '@cipherchat/contracts';
import { DEFAULT_PREFERENCES, type StoredPreferences } from '../domain/policy.js';

interface Row {
  welcome: boolean;
  new_login: boolean;
  digest: boolean;
  digest_delay_minutes: number | null;
  digest_content: DigestContent;
  updated_at: Date;
}

/**
 * Reads a user's preferences (the defaults when they never changed any).
 * @param m manager
 * @param userId the user
 * @param lock lock the row for an update in the same transaction
 * @returns the preferences
 */
export async function getPreferences(m: EntityManager, userId: string, lock = false): Promise<StoredPreferences> {
  const rows = (await m.query(
    `SELECT welcome, new_login, digest, digest_delay_minutes, digest_content, updated_at FROM notify.preferences WHERE user_id = $1${lock ? ' FOR UPDATE' : ''}`,
    [userId],
  )) as Row[];
  const r = rows[0];
  if (!r) return DEFAULT_PREFERENCES;
  return {
    welcome: r.welcome,
    newLogin: r.new_login,
    digest: r.digest,
    digestDelayMinutes: r.digest_delay_minutes,
    digestContent: r.digest_content,
    updatedAt: r.updated_at,
  };
}

/**
 * Stores a user's preferences.
 * @param m transaction manager
 * @param userId the user
 * @param p the full new preferences
 * @returns them, with the new updatedAt
 */
export async function savePreferences(m: EntityManager, userId: string, p: StoredPreferences): Promise<StoredPreferences> {
  const rows = (await m.query(
    `INSERT INTO notify.preferences (user_id, welcome, new_login, digest, digest_delay_minutes, digest_content, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (user_id) DO UPDATE SET welcome = $2, new_login = $3, digest = $4, digest_delay_minutes = $5,
       digest_content = $6, updated_at = now()
     RETURNING updated_at`,
    [userId, p.welcome, p.newLogin, p.digest, p.digestDelayMinutes, p.digestContent],
  )) as { updated_at: Date }[];
  return { ...p, updatedAt: rows[0]?.updated_at ?? new Date() };
}
