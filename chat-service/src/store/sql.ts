import type { EntityManager } from 'typeorm';

/** The bit of node-postgres' Pool we use (TypeORM's postgres driver keeps it as `master`). */
interface PgPool {
  query(sql: string, params: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * Runs one parameterised statement and returns its rows.
 *
 * Outside a transaction (the DataSource's own manager) it goes straight to the driver's pg
 * pool: on the message hot path TypeORM's per-query QueryRunner bookkeeping costs more than
 * the statement. Inside a transaction it uses the transaction's runner. TypeORM answers
 * UPDATE/DELETE with `[rows, rowCount]`; this evens that out so callers always get rows.
 * @param m manager (the DataSource manager or a transaction's)
 * @param sql SQL text with `$n` placeholders
 * @param params values
 * @returns the rows
 */
export async function q<T = Record<string, unknown>>(m: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  if (!m.queryRunner) {
    const pool = (m.connection.driver as unknown as { master?: PgPool }).master;
    if (pool) return (await pool.query(sql, params)).rows as T[];
  }
  const res = (await m.query(sql, params)) as unknown;
  if (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number') return res[0] as T[];
  return res as T[];
}
