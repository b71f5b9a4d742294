import pg from 'pg';
import { afterAll } from 'vitest';

let pool: pg.Pool | undefined;
afterAll(async () => {
  await pool?.end();
  pool = undefined;
});

function db(): pg.Pool {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error('DATABASE_URL is not set: run through the e2e runner, which exports it');
  pool ??= new pg.Pool({ connectionString: url, max: 2 });
  return pool;
}

/**
 * Queries the stack's database as a compromised server (or its operator) could, past every
 * service check. The e2e runner exports the stack's `DATABASE_URL`.
 * @param sql one statement with `$n` parameters
 * @param params its parameters
 * @returns the rows
 */
export async function serverQuery<T extends pg.QueryResultRow = Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return (await db().query<T>(sql, params)).rows;
}

/**
 * Runs SQL text on the stack's database (several statements allowed) as a compromised server
 * could.
 * @param sql statements
 * @returns the first cell of the last statement's first row, as text ('' when none)
 */
export async function serverSql(sql: string): Promise<string> {
  const results = (await db().query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
  const last = Array.isArray(results) ? results.at(-1) : results;
  const row = last?.rows[0] as Record<string, unknown> | undefined;
  const cell = row ? Object.values(row)[0] : undefined;
  return cell === undefined || cell === null ? '' : String(cell);
}

/**
 * A user's id by username (checked before it goes into SQL).
 * @param username the handle
 * @returns the id
 */
export async function userIdOf(username: string): Promise<string> {
  if (!/^[a-z0-9_]+$/.test(username)) throw new Error(`unexpected username ${username}`);
  const id = await serverSql(`SELECT id FROM users.users WHERE username = '${username}'`);
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`no user ${username}`);
  return id;
}
