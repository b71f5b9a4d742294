import { DataSource, type EntityManager, type EntitySchema, type MigrationInterface } from 'typeorm';
import type { Logger } from 'pino';

/** Options of {@link createDataSource}. */
export interface DataSourceOptions {
  /** PostgreSQL URL. */
  url: string;
  /** The service's own schema (`users`, `chat`, `notify`); it only ever touches this one. */
  schema: string;
  /** EntitySchema definitions. */
  entities: EntitySchema[];
  /** Migration classes, oldest first. */
  migrations: (new () => MigrationInterface)[];
  /** Pool size (default 10). */
  poolSize?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

/**
 * Creates (not initialises) the service's TypeORM DataSource. Schema changes happen only
 * through migrations: `synchronize` stays off.
 * @param options connection and model
 * @returns a DataSource
 */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    logging: false,
    applicationName: options.applicationName,
    extra: { max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 },
  });
}

/**
 * Initialises the DataSource and runs pending migrations while holding a PostgreSQL
 * advisory lock, so replicas starting together migrate one at a time.
 * @param ds the DataSource
 * @param schema the service's schema (created if missing)
 * @param logger progress goes here
 * @returns the number of migrations applied
 */
export async function initDatabase(ds: DataSource, schema: string, logger: Logger): Promise<number> {
  if (!ds.isInitialized) await ds.initialize();
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${schema}`]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const applied = await ds.runMigrations({ transaction: 'each' });
    if (applied.length) logger.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
    return applied.length;
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${schema}`]).catch(() => undefined);
    await runner.release();
  }
}

/**
 * Runs `work` in one transaction; the use case owns it and passes the manager to repositories.
 * @param ds the DataSource
 * @param work the unit of work
 * @returns what `work` returns
 */
export function withTransaction<T>(ds: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return ds.transaction('READ COMMITTED', work);
}

/**
 * Readiness check: the database answers a trivial query.
 * @param ds the DataSource
 * @returns true when usable
 */
export async function isDatabaseReady(ds: DataSource): Promise<boolean> {
  if (!ds.isInitialized) return false;
  await ds.query('SELECT 1');
  return true;
}
