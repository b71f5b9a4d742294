import type { EntityManager } from 'typeorm';
import { DIRECTORY_QUERY_MIN } from '@cipherchat/contracts';
import type { User } from '../domain/user.js';
import { escapeLike, type DirectoryCursor } from '../domain/directory-cursor.js';
import { SCHEMA } from './schema.js';

const T = `"${SCHEMA}".users`;
const COLUMNS = 'id, email, username, display_name, email_verified_at, created_at';

interface UserRow {
  id: string;
  email: string;
  username: string;
  display_name: string;
  email_verified_at: Date | null;
  created_at: Date;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  username: r.username,
  displayName: r.display_name,
  emailVerifiedAt: r.email_verified_at,
  createdAt: r.created_at,
});

/** A new account. */
export interface NewUser {
  id: string;
  email: string;
  username: string;
  displayName: string;
  /** Raw OPAQUE registration record bytes. */
  opaqueRecord: Buffer;
}

/**
 * Inserts an account; a unique violation reports which field clashed.
 * @param m transaction manager
 * @param user the account
 * @returns the user, or the clashing field
 */
export async function insertUser(
  m: EntityManager,
  user: NewUser,
): Promise<{ user: User } | { taken: 'email' | 'username' }> {
  const rows = (await m.query(
    `INSERT INTO ${T} (id, email, username, display_name, opaque_record) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [user.id, user.email, user.username, user.displayName, user.opaqueRecord],
  )) as UserRow[];
  const row = rows[0];
  if (row) return { user: toUser(row) };
  // The username first: it is public, so its clash is answered whatever the email (which is not).
  return { taken: (await isUsernameTaken(m, user.username)) ? 'username' : 'email' };
}

/**
 * Whether someone has this username.
 * @param m manager
 * @param username lower-cased username
 * @returns true when taken
 */
export async function isUsernameTaken(m: EntityManager, username: string): Promise<boolean> {
  return (
    ((await m.query(`SELECT 1 FROM ${T} WHERE username = $1`, [username])) as unknown[]).length > 0
  );
}

/**
 * Which of email / username is already used by someone.
 * @param m manager
 * @param email lower-cased email
 * @param username lower-cased username
 * @returns the taken field, if any
 */
export async function findTaken(
  m: EntityManager,
  email: string,
  username: string,
): Promise<'email' | 'username' | undefined> {
  const rows = (await m.query(
    `SELECT email = $1 AS email_taken FROM ${T} WHERE email = $1 OR username = $2`,
    [email, username],
  )) as {
    email_taken: boolean;
  }[];
  if (rows.length === 0) return undefined;
  return rows.some((r) => r.email_taken) ? 'email' : 'username';
}

/**
 * A live account by id.
 * @param m manager
 * @param id user id
 * @returns the user or undefined (also for deleted accounts)
 */
export async function findUserById(m: EntityManager, id: string): Promise<User | undefined> {
  const rows = (await m.query(`SELECT ${COLUMNS} FROM ${T} WHERE id = $1 AND deleted_at IS NULL`, [
    id,
  ])) as UserRow[];
  return rows[0] && toUser(rows[0]);
}

/**
 * A live account and its OPAQUE record by email (the login lookup).
 * @param m manager
 * @param email lower-cased email
 * @returns the user with the record, or undefined
 */
export async function findUserWithRecordByEmail(
  m: EntityManager,
  email: string,
): Promise<(User & { opaqueRecord: Buffer }) | undefined> {
  const rows = (await m.query(
    `SELECT ${COLUMNS}, opaque_record FROM ${T} WHERE email = $1 AND deleted_at IS NULL`,
    [email],
  )) as (UserRow & {
    opaque_record: Buffer;
  })[];
  const row = rows[0];
  return row && { ...toUser(row), opaqueRecord: row.opaque_record };
}

/**
 * Replaces the OPAQUE record (password change or reset).
 * @param m manager
 * @param id user id
 * @param record new record bytes
 * @param verify also mark the email verified (a reset link proves control of the address)
 */
export async function updateOpaqueRecord(
  m: EntityManager,
  id: string,
  record: Buffer,
  verify = false,
): Promise<void> {
  await m.query(
    `UPDATE ${T} SET opaque_record = $2, updated_at = now()${verify ? ', email_verified_at = COALESCE(email_verified_at, now())' : ''}
     WHERE id = $1 AND deleted_at IS NULL`,
    [id, record],
  );
}

/**
 * Marks the email verified (idempotent).
 * @param m manager
 * @param id user id
 */
export async function markEmailVerified(m: EntityManager, id: string): Promise<void> {
  await m.query(
    `UPDATE ${T} SET email_verified_at = COALESCE(email_verified_at, now()), updated_at = now() WHERE id = $1`,
    [id],
  );
}

/**
 * Updates display name and/or username.
 * @param m manager
 * @param id user id
 * @param patch fields to change
 * @returns the user, `username_taken`, or undefined when the user is gone
 */
export async function updateProfile(
  m: EntityManager,
  id: string,
  patch: { displayName?: string; username?: string },
): Promise<User | 'username_taken' | undefined> {
  if (patch.username !== undefined) {
    const clash = (await m.query(`SELECT 1 FROM ${T} WHERE username = $1 AND id <> $2`, [
      patch.username,
      id,
    ])) as unknown[];
    if (clash.length) return 'username_taken';
  }
  try {
    const rows = (await m.query(
      `UPDATE ${T} SET display_name = COALESCE($2, display_name), username = COALESCE($3, username), updated_at = now()
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [id, patch.displayName ?? null, patch.username ?? null],
    )) as [UserRow[], number];
    const row = rows[0][0];
    return row && toUser(row);
  } catch (err) {
    // a concurrent rename to the same handle: the unique index decides
    if ((err as { code?: string }).code === '23505') return 'username_taken';
    throw err;
  }
}

/**
 * Erases an account's personal data and keeps a tombstone row (the id is never reused and
 * audit rows keep their reference).
 * @param m manager
 * @param id user id
 * @returns whether a live account was deleted
 */
export async function eraseUser(m: EntityManager, id: string): Promise<boolean> {
  const rows = (await m.query(
    `UPDATE ${T} SET email = NULL, username = NULL, display_name = '', opaque_record = NULL, email_verified_at = NULL,
       deleted_at = now(), updated_at = now()
     WHERE id = $1 AND deleted_at IS NULL RETURNING id`,
    [id],
  )) as [unknown[], number];
  return rows[0].length > 0;
}

/**
 * Directory search over username and display name: exact username first, then username
 * prefix, then display-name prefix/substring, then trigram-similar names; alphabetical by
 * username within a rank. Keyset pagination on (rank, username) keeps pages stable.
 * @param m manager
 * @param query search text, at least DIRECTORY_QUERY_MIN characters (a shorter one finds nobody:
 *   the directory never lists everyone)
 * @param limit page size
 * @param after cursor position
 * @returns up to `limit + 1` rows (the extra one says whether there is a next page)
 */
export async function searchUsers(
  m: EntityManager,
  query: string,
  limit: number,
  after: DirectoryCursor | undefined,
): Promise<{ id: string; username: string; displayName: string; rank: number }[]> {
  const q = query.trim().toLowerCase();
  if (q.length < DIRECTORY_QUERY_MIN) return [];
  const like = escapeLike(q);
  const rows = (await m.query(
    `SELECT * FROM (
       SELECT id, username, display_name,
         CASE
           WHEN username = $1 THEN 0
           WHEN username LIKE $2 || '%' THEN 1
           WHEN lower(display_name) LIKE '%' || $2 || '%' OR username LIKE '%' || $2 || '%' THEN 2
           ELSE 3
         END AS rank
       FROM ${T}
       WHERE deleted_at IS NULL AND (
         username LIKE '%' || $2 || '%' OR lower(display_name) LIKE '%' || $2 || '%'
         OR (length($1) >= 3 AND (username OPERATOR(public.%) $1 OR lower(display_name) OPERATOR(public.%) $1))
       )
     ) s
     WHERE ($3::int IS NULL OR (rank, username) > ($3::int, $4::text))
     ORDER BY rank, username
     LIMIT $5`,
    [q, like, after?.rank ?? null, after?.username ?? null, limit + 1],
  )) as { id: string; username: string; display_name: string; rank: number }[];
  return rows.map((r) => ({
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    rank: r.rank,
  }));
}

/**
 * Row counts of every user-service table (tests compare them before and after bad requests).
 * @param m manager
 * @returns table -> count
 */
export async function countRows(m: EntityManager): Promise<Record<string, number>> {
  const tables = [
    'users',
    'sessions',
    'refresh_tokens',
    'one_time_tokens',
    'audit_log',
    'outbox',
    'inbox',
  ];
  const out: Record<string, number> = {};
  for (const t of tables) {
    const [row] = (await m.query(`SELECT count(*)::int AS n FROM "${SCHEMA}".${t}`)) as {
      n: number;
    }[];
    out[t] = row?.n ?? 0;
  }
  return out;
}
