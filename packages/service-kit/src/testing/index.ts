import { once } from 'node:events';
import { Writable } from 'node:stream';
import pg from 'pg';
import type { Bus, ConsumedEvent } from '../amqp/bus.js';
import { uniqueSuffix, type RunNames } from './names.js';

/** Local infrastructure URLs used by tests (override with env). */
export const testInfra = {
  postgresAdminUrl: process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  amqpUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

/** A throwaway database. */
export interface TestDatabase {
  /** postgres:// URL of the new database. */
  url: string;
  /** Its name. */
  name: string;
  /** Drops it (terminating leftover connections). */
  drop(): Promise<void>;
}

/**
 * Creates a fresh, empty database for one test file or run.
 * @param prefix readable prefix (`user`, `chat`: the database is `t_<prefix>_<random>`), or a
 *   run's names ({@link RunNames.database})
 * @param opts `adminUrl`: the server's admin URL (default {@link testInfra}`.postgresAdminUrl`)
 * @returns the database handle (its URL on the admin URL's server)
 */
export async function createTestDatabase(prefix: string | RunNames, opts: { adminUrl?: string } = {}): Promise<TestDatabase> {
  const adminUrl = opts.adminUrl ?? testInfra.postgresAdminUrl;
  const name = typeof prefix === 'string' ? `t_${prefix}_${uniqueSuffix()}` : prefix.database;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`).catch(() => undefined);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      // a fresh connection: an earlier one may have died with a server restart (fault suite)
      const c = new pg.Client({ connectionString: adminUrl });
      c.on('error', () => undefined);
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Resolves when `bus` has settled `count` deliveries on `queue` matching `filter`
 * (event-driven: the bus emits `consumed`; no polling).
 * @param bus the consumer's bus
 * @param queue queue name
 * @param count how many
 * @param filter optional predicate
 * @param timeoutMs give up after this long
 * @returns the settled deliveries
 */
export function waitForConsumed(
  bus: Bus,
  queue: string,
  count = 1,
  filter: (e: ConsumedEvent) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<ConsumedEvent[]> {
  return new Promise((resolve, reject) => {
    const seen: ConsumedEvent[] = [];
    const timer = setTimeout(() => {
      bus.off('consumed', onConsumed);
      reject(new Error(`timed out waiting for ${count} deliveries on ${queue} (saw ${seen.length}: ${JSON.stringify(seen)})`));
    }, timeoutMs);
    const onConsumed = (e: ConsumedEvent) => {
      if (e.queue !== queue || !filter(e)) return;
      seen.push(e);
      if (seen.length >= count) {
        clearTimeout(timer);
        bus.off('consumed', onConsumed);
        resolve(seen);
      }
    };
    bus.on('consumed', onConsumed);
  });
}

/** A writable stream that keeps everything written, so tests can scan logs for secrets. */
export class LogCapture extends Writable {
  /** Every chunk written. */
  readonly chunks: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString('utf8'));
    done();
  }
  /** @returns all text written so far */
  text(): string {
    return this.chunks.join('');
  }
}

/**
 * Waits for an EventEmitter event with a timeout.
 * @param emitter the emitter
 * @param event the event name
 * @param timeoutMs limit
 * @returns the event's arguments
 */
export async function onceWithTimeout(emitter: NodeJS.EventEmitter, event: string, timeoutMs = 10_000): Promise<unknown[]> {
  return once(emitter, event, { signal: AbortSignal.timeout(timeoutMs) });
}
export * from './tcp-proxy.js';
export * from './names.js';
export * from './free-port.js';
export * from './token-issuer.js';
export * from './cleanup.js';
export * from './service-process.js';
export * from './route-matrix.js';
