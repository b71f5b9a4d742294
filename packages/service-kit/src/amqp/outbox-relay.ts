import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { EventEnvelope } from '@cipherchat/contracts';
import type { Metrics } from '../metrics.js';
import type { Bus } from './bus.js';

/** Options of {@link startOutboxRelay}. */
export interface OutboxRelayOptions {
  ds: DataSource;
  /** The service's schema (holding the outbox table). */
  schema: string;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  /** Poll interval in ms (default 250); `kick()` publishes sooner. */
  intervalMs?: number;
  /** Rows per batch (default 200). */
  batchSize?: number;
  /** Keep processed rows this long for inspection (default 24 h). */
  retentionHours?: number;
  /**
   * Optional last step before publishing (e.g. unsealing a field that is stored encrypted in the
   * outbox so it is never in the database in clear). Must be pure and deterministic.
   */
  prepare?: (envelope: EventEnvelope) => EventEnvelope;
}

/** A running relay. */
export interface OutboxRelay {
  /** Publish now rather than at the next tick (call after committing an outbox row). */
  kick(): void;
  /** Stops after the batch in flight. */
  stop(): Promise<void>;
}

interface OutboxRow {
  seq: string;
  id: string;
  type: string;
  aggregate_id: string;
  payload: unknown;
  occurred_at: Date;
}

/**
 * Publishes outbox rows in commit order with publisher confirms, then marks them processed.
 *
 * Only one relay per schema publishes at a time: each batch runs in a transaction holding
 * `pg_try_advisory_xact_lock`, so replicas never interleave and order is kept. If the process
 * dies between the confirm and the commit, the batch is published again: delivery is
 * at-least-once and consumers dedupe by event id (inbox).
 * @param options database, bus and tuning
 * @returns the relay handle
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { ds, schema, bus, logger, metrics } = options;
  const intervalMs = options.intervalMs ?? 250;
  const batchSize = options.batchSize ?? 200;
  const retentionHours = options.retentionHours ?? 24;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let lastCleanup = 0;

  const publishBatch = async (): Promise<number> =>
    ds.transaction(async (m) => {
      const [lock] = (await m.query('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked', [`outbox:${schema}`])) as { locked: boolean }[];
      if (!lock?.locked) return 0;
      const rows = (await m.query(
        `SELECT seq, id, type, aggregate_id, payload, occurred_at FROM "${schema}".outbox
         WHERE processed_at IS NULL ORDER BY seq LIMIT $1`,
        [batchSize],
      )) as OutboxRow[];
      if (rows.length === 0) return 0;
      const envelopes: EventEnvelope[] = rows.map((r) => ({
        id: r.id,
        type: r.type,
        occurredAt: new Date(r.occurred_at).toISOString(),
        aggregateId: r.aggregate_id,
        payload: r.payload,
      }));
      await bus.publish(options.prepare ? envelopes.map(options.prepare) : envelopes);
      await m.query(`UPDATE "${schema}".outbox SET processed_at = now(), attempts = attempts + 1 WHERE seq = ANY($1::bigint[])`, [
        rows.map((r) => r.seq),
      ]);
      metrics.outboxPublished.inc(rows.length);
      return rows.length;
    });

  const tick = async (): Promise<void> => {
    do {
      again = false;
      try {
        if (bus.isReady()) {
          let n: number;
          do n = await publishBatch();
          while (n === batchSize && !stopped);
        }
        const [lag] = (await ds.query(
          `SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(occurred_at)), 0)::float AS lag FROM "${schema}".outbox WHERE processed_at IS NULL`,
        )) as { lag: number }[];
        metrics.outboxLag.set(lag?.lag ?? 0);
        if (Date.now() - lastCleanup > 60_000) {
          lastCleanup = Date.now();
          await ds.query(`DELETE FROM "${schema}".outbox WHERE processed_at < now() - make_interval(hours => $1)`, [retentionHours]);
        }
      } catch (err) {
        if (!stopped) logger.warn({ err: (err as Error).message }, 'outbox relay tick failed; will retry');
      }
    } while (again && !stopped);
  };

  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = tick().finally(() => {
      running = undefined;
    });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  run();

  return {
    kick: run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
