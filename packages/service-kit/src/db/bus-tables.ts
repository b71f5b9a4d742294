import type { QueryRunner } from 'typeorm';

/**
 * Creates the outbox and inbox tables in a service's schema. Call it from the service's
 * first migration (`up`), and {@link dropBusTables} from its `down`.
 *
 * - outbox: events written in the same transaction as the change they describe; `seq`
 *   keeps publication order; the relay marks `processed_at` after a broker confirm.
 * - inbox: ids of consumed events, so a redelivered event is handled once.
 * @param runner the migration's query runner
 * @param schema the service's schema
 */
export async function createBusTables(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`
    CREATE TABLE "${schema}".outbox (
      seq bigserial PRIMARY KEY,
      id uuid NOT NULL UNIQUE,
      type text NOT NULL,
      aggregate_id text NOT NULL,
      payload jsonb NOT NULL,
      occurred_at timestamptz NOT NULL,
      processed_at timestamptz,
      attempts int NOT NULL DEFAULT 0
    )`);
  await runner.query(
    `CREATE INDEX outbox_pending_idx ON "${schema}".outbox (seq) WHERE processed_at IS NULL`,
  );
  await runner.query(`
    CREATE TABLE "${schema}".inbox (
      id uuid PRIMARY KEY,
      type text NOT NULL,
      queue text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now()
    )`);
}

/**
 * Drops what {@link createBusTables} created.
 * @param runner the migration's query runner
 * @param schema the service's schema
 */
export async function dropBusTables(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`DROP TABLE IF EXISTS "${schema}".inbox`);
  await runner.query(`DROP TABLE IF EXISTS "${schema}".outbox`);
}
