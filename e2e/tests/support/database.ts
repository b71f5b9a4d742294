import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs SQL on the stack's database as a compromised server (or its operator) could, past every
 * service check. The e2e runner exports the stack's `DATABASE_URL`.
 * @param sql statements
 * @returns psql's unaligned, tuples-only output
 */
export async function serverSql(sql: string): Promise<string> {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error('DATABASE_URL is not set: run through the e2e runner, which exports it');
  const { stdout } = await run('psql', [
    '-X',
    '-q',
    '-t',
    '-A',
    '-v',
    'ON_ERROR_STOP=1',
    url,
    '-c',
    sql,
  ]);
  return stdout.trim();
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
