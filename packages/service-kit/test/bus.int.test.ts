import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  Bus,
  addToOutbox,
  createBusTables,
  createDataSource,
  createLogger,
  createMetrics,
  initDatabase,
  startOutboxRelay,
  withInbox,
  withTransaction,
  type OutboxRelay,
} from '../src/index.js';
import { LogCapture, TcpProxy, createTestDatabase, testInfra, uniqueSuffix, waitForConsumed, type TestDatabase } from '../src/testing/index.js';

const schema = 'kit';

class InitKit1700000000000 implements MigrationInterface {
  name = 'InitKit1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await createBusTables(q, schema);
    await q.query(`CREATE TABLE "${schema}".effects (event_id uuid NOT NULL, user_id uuid NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "${schema}".effects`);
  }
}

describe('bus with transactional outbox and inbox (real PostgreSQL + RabbitMQ)', () => {
  let db: TestDatabase;
  const logs = new LogCapture();
  const logger = createLogger('kit-test', 'info', logs);
  const metrics = createMetrics('kit-test', false);
  const exchange = `t.kit.${uniqueSuffix()}`;
  const queue = `kit-${uniqueSuffix()}.deleted`;
  const proxy = new TcpProxy(5672);
  const ds = () => dataSource;
  let dataSource: ReturnType<typeof createDataSource>;
  let producerBus: Bus;
  let consumerBus: Bus;
  let relay: OutboxRelay;
  let failNext = 0;

  beforeAll(async () => {
    db = await createTestDatabase('kit');
    dataSource = createDataSource({ url: db.url, schema, entities: [], migrations: [InitKit1700000000000] });
    await initDatabase(dataSource, schema, logger);
    await proxy.start();
    const amqpViaProxy = testInfra.amqpUrl.replace(':5672', `:${proxy.port}`);
    producerBus = new Bus({ url: amqpViaProxy, exchange, logger, metrics });
    await producerBus.start(true);
    consumerBus = new Bus({ url: testInfra.amqpUrl, exchange, logger, metrics, retry: { maxAttempts: 3, baseDelayMs: 50 } });
    await consumerBus.start(true);
    await consumerBus.consume({
      queue,
      types: ['user.deleted.v1'],
      handler: withInbox(dataSource, schema, queue, async (event, manager) => {
        if (failNext > 0) {
          failNext -= 1;
          throw new Error('transient failure');
        }
        await manager.query(`INSERT INTO "${schema}".effects (event_id, user_id) VALUES ($1, $2)`, [event.id, event.payload.userId]);
      }),
    });
    relay = startOutboxRelay({ ds: dataSource, schema, bus: producerBus, logger, metrics, intervalMs: 50 });
  });

  afterAll(async () => {
    await relay?.stop();
    await producerBus?.close();
    await consumerBus?.close();
    await proxy.stop();
    await dataSource?.destroy();
    await db?.drop();
  });

  const effectsFor = async (userId: string) =>
    (await ds().query(`SELECT event_id FROM "${schema}".effects WHERE user_id = $1`, [userId])) as { event_id: string }[];

  it('when a change commits with an outbox row, then the event is published and handled once', async () => {
    const userId = randomUUID();
    const consumed = waitForConsumed(consumerBus, queue, 1, (e) => e.result === 'ack');
    const eventId = await withTransaction(ds(), (m) => addToOutbox(m, schema, { type: 'user.deleted.v1', aggregateId: userId, payload: { userId } }));
    relay.kick();
    const [settled] = await consumed;
    expect(settled?.eventId).toBe(eventId);
    expect(await effectsFor(userId)).toEqual([{ event_id: eventId }]);
  });

  it('when the transaction rolls back, then no event is ever published', async () => {
    const userId = randomUUID();
    await expect(
      withTransaction(ds(), async (m) => {
        await addToOutbox(m, schema, { type: 'user.deleted.v1', aggregateId: userId, payload: { userId } });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    const [row] = (await ds().query(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE aggregate_id = $1`, [userId])) as { n: number }[];
    expect(row?.n).toBe(0);
  });

  it('when the broker is unreachable, then the change still commits and the event is delivered exactly once after it returns', async () => {
    await proxy.cut();
    const userId = randomUUID();
    const eventId = await withTransaction(ds(), (m) => addToOutbox(m, schema, { type: 'user.deleted.v1', aggregateId: userId, payload: { userId } }));
    relay.kick();
    const [pending] = (await ds().query(`SELECT processed_at FROM "${schema}".outbox WHERE id = $1`, [eventId])) as { processed_at: Date | null }[];
    expect(pending?.processed_at).toBeNull();
    const consumed = waitForConsumed(consumerBus, queue, 1, (e) => e.eventId === eventId);
    await proxy.restore();
    await consumed;
    expect(await effectsFor(userId)).toEqual([{ event_id: eventId }]);
  });

  it('when the same event is delivered twice, then the inbox makes the second a no-op', async () => {
    const userId = randomUUID();
    const envelope = { id: randomUUID(), type: 'user.deleted.v1', occurredAt: new Date().toISOString(), aggregateId: userId, payload: { userId } };
    const settled = waitForConsumed(consumerBus, queue, 2, (e) => e.eventId === envelope.id);
    await producerBus.publish([envelope]);
    await producerBus.publish([envelope]);
    const results = (await settled).map((e) => e.result).sort();
    expect(results).toEqual(['ack', 'duplicate']);
    expect(await effectsFor(userId)).toHaveLength(1);
  });

  it('when a handler fails transiently, then it is retried with backoff and succeeds once', async () => {
    failNext = 2;
    const userId = randomUUID();
    const envelope = { id: randomUUID(), type: 'user.deleted.v1', occurredAt: new Date().toISOString(), aggregateId: userId, payload: { userId } };
    const settled = waitForConsumed(consumerBus, queue, 3, (e) => e.eventId === envelope.id);
    await producerBus.publish([envelope]);
    expect((await settled).map((e) => e.result)).toEqual(['retry', 'retry', 'ack']);
    expect(await effectsFor(userId)).toHaveLength(1);
  });

  it('when a handler keeps failing, then after bounded retries the event lands in the dead-letter queue', async () => {
    failNext = 3;
    const userId = randomUUID();
    const envelope = { id: randomUUID(), type: 'user.deleted.v1', occurredAt: new Date().toISOString(), aggregateId: userId, payload: { userId } };
    const settled = waitForConsumed(consumerBus, queue, 3, (e) => e.eventId === envelope.id);
    await producerBus.publish([envelope]);
    expect((await settled).map((e) => e.result)).toEqual(['retry', 'retry', 'dead_letter']);
    expect(await effectsFor(userId)).toHaveLength(0);
    expect(await dlqContains(`${queue}.dlq`, envelope.id)).toBe(true);
  });

  it('when a malformed event arrives, then it is dead-lettered with a log line saying why and the consumer keeps going', async () => {
    const poisoned = waitForConsumed(consumerBus, queue, 1, (e) => e.result === 'dead_letter' && e.eventId === undefined);
    await producerBus.publishRaw('user.deleted.v1', Buffer.from('{"not":"an envelope"'));
    const [dead] = await poisoned;
    expect(dead?.reason).toBe('body is not JSON');
    expect(logs.text()).toContain('malformed event sent to dead-letter queue');

    const userId = randomUUID();
    const ok = waitForConsumed(consumerBus, queue, 1, (e) => e.result === 'ack');
    await withTransaction(ds(), (m) => addToOutbox(m, schema, { type: 'user.deleted.v1', aggregateId: userId, payload: { userId } }));
    relay.kick();
    await ok;
    expect(await effectsFor(userId)).toHaveLength(1);
  });

  it('when the payload does not match the event schema, then it is dead-lettered without reaching the handler', async () => {
    const envelope = { id: randomUUID(), type: 'user.deleted.v1', occurredAt: new Date().toISOString(), aggregateId: 'x', payload: { userId: 'not-a-uuid' } };
    const dead = waitForConsumed(consumerBus, queue, 1, (e) => e.eventId === envelope.id);
    await producerBus.publish([envelope]);
    const [settled] = await dead;
    expect(settled?.result).toBe('dead_letter');
    expect(settled?.reason).toMatch(/^bad payload: userId/);
  });
});

async function dlqContains(dlq: string, eventId: string): Promise<boolean> {
  const amqp = (await import('amqplib')).default;
  const conn = await amqp.connect(testInfra.amqpUrl);
  try {
    const ch = await conn.createChannel();
    for (let i = 0; i < 100; i++) {
      const msg = await ch.get(dlq, { noAck: false });
      if (!msg) return false;
      if (msg.properties.messageId === eventId) return true;
    }
    return false;
  } finally {
    await conn.close();
  }
}
