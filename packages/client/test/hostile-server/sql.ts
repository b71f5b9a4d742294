import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs SQL on the test database the way a compromised server (or its operator) would: straight
 * into the tables, past chat-service's checks. `psql` ends on the first error.
 * @param url the test database
 * @param sql statements
 * @returns psql's unaligned, tuples-only output
 */
export async function sql(url: string, sql: string): Promise<string> {
  const { stdout } = await run('psql', ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', url, '-c', sql]);
  return stdout.trim();
}

/**
 * A UUID literal, checked (tests interpolate ids into SQL).
 * @param id a UUID
 * @returns the quoted literal
 */
export function uuid(id: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`not a uuid: ${id}`);
  return `'${id}'`;
}
