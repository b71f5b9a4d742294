import { once } from 'node:events';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus, createLogger, withInbox, type ConsumedEvent } from '@cipherchat/service-kit';
import {
  LogCapture,
  TcpProxy,
  testInfra,
  uniqueSuffix,
  waitForConsumed,
} from '@cipherchat/service-kit/testing';
import type { EventEnvelope } from '@cipherchat/contracts';
import type { App } from '../src/app.js';
import { SCHEMA } from '../src/store/schema.js';
import {
  call,
  createHarness,
  login,
  newAccount,
  register,
  type Harness,
} from './support/harness.js';

describe('events leave through the outbox: broker outages lose nothing, consumers see each event once', () => {
  let h: Harness;
  let app: App;
  let base: string;
  const proxy = new TcpProxy(5672);
  const suffix = uniqueSuffix();
  const welcomeQueue = `t.user.${suffix}.welcome`;
  const poisonQueue = `t.user.${suffix}.poison`;
  let consumer: Bus;
  /** Effects of the welcome consumer, per user id (what "exactly once" is about). */
  const effects = new Map<string, number>();
  const consumed: ConsumedEvent[] = [];

  beforeAll(async () => {
    h = await createHarness('outbox');
    const port = await proxy.start();
    ({ app, url: base } = await h.startApp({
      AMQP_URL: testInfra.amqpUrl.replace(':5672', `:${port}`),
    }));
    consumer = new Bus({
      url: testInfra.amqpUrl,
      exchange: h.exchange,
      logger: createLogger('consumer', 'warn', new LogCapture()),
      // the app's registry: this consumer stands in for a service that both publishes and
      // consumes, so one scrape of the app's /metrics shows both sides
      metrics: app.metrics,
      retry: { maxAttempts: 3, baseDelayMs: 50 },
    });
    consumer.on('consumed', (e: ConsumedEvent) => consumed.push(e));
    await consumer.start(true);
    await consumer.consume({
      queue: welcomeQueue,
      types: ['user.registered.v1'],
      handler: withInbox(app.ds, SCHEMA, welcomeQueue, async (event) => {
        effects.set(event.payload.userId, (effects.get(event.payload.userId) ?? 0) + 1);
      }),
    });
    await consumer.consume({
      queue: poisonQueue,
      types: ['user.deleted.v1'],
      handler: async () => {
        throw new Error('this consumer cannot handle deletions today');
      },
    });
  });
  afterAll(async () => {
    await consumer?.close();
    await h?.close();
    await proxy.stop();
    const conn = await amqp.connect(testInfra.amqpUrl);
    const ch = await conn.createChannel();
    for (const q of [welcomeQueue, poisonQueue])
      for (const name of [q, `${q}.retry`, `${q}.dlq`]) await ch.deleteQueue(name);
    await ch.deleteExchange(h.exchange);
    await conn.close();
  });

  it('when RabbitMQ is unreachable, then /ready says the bus is down, registration still succeeds, and after it returns the event is delivered exactly once', async () => {
    const down = once(app.bus, 'disconnected');
    await proxy.cut();
    await down;
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: 'not_ready',
      checks: { db: true, bus: false, redis: true },
    });
    const acc = newAccount('outage');
    const reg = await register(base, acc);
    expect(reg.status).toBe(200);
    const userId = reg.body.user.id as string;
    const [row] = (await app.ds.query(
      `SELECT id, processed_at FROM users.outbox WHERE aggregate_id = $1 AND type = 'user.registered.v1'`,
      [userId],
    )) as {
      id: string;
      processed_at: Date | null;
    }[];
    expect(row?.processed_at).toBeNull();
    expect(effects.get(userId)).toBeUndefined();

    const delivered = waitForConsumed(
      consumer,
      welcomeQueue,
      1,
      (e) => e.eventId === row!.id,
      30_000,
    );
    await proxy.restore();
    const [first] = await delivered;
    expect(first?.result).toBe('ack');
    expect(effects.get(userId)).toBe(1);

    // the broker (or a relay that died before marking the row) delivers the same message again: deduplicated
    const [again] = (await app.ds.query(
      `SELECT id, type, aggregate_id, payload, occurred_at FROM users.outbox WHERE id = $1`,
      [row!.id],
    )) as {
      id: string;
      type: string;
      aggregate_id: string;
      payload: unknown;
      occurred_at: Date;
    }[];
    const envelope: EventEnvelope = {
      id: again!.id,
      type: again!.type,
      aggregateId: again!.aggregate_id,
      payload: again!.payload,
      occurredAt: again!.occurred_at.toISOString(),
    };
    const dup = waitForConsumed(consumer, welcomeQueue, 1, (e) => e.eventId === row!.id);
    await consumer.publish([envelope]);
    expect((await dup)[0]?.result).toBe('duplicate');
    expect(effects.get(userId)).toBe(1);
    const inbox = (await app.ds.query(`SELECT count(*)::int AS n FROM users.inbox WHERE id = $1`, [
      row!.id,
    ])) as { n: number }[];
    expect(inbox[0]?.n).toBe(1);

    expect((await fetch(`${base}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /^outbox_lag_seconds\{service="user-service"\} \d+(\.\d+)?(e[-+]?\d+)?$/m,
    );
    expect(metrics).toMatch(/^outbox_published_total\{service="user-service"\} [1-9]\d*$/m);
    expect(metrics).toMatch(
      new RegExp(
        `^bus_consumer_results_total\\{queue="${welcomeQueue}",result="ack",service="user-service"\\} [1-9]\\d*$`,
        'm',
      ),
    );
    expect(metrics).toMatch(
      new RegExp(
        `^bus_consumer_results_total\\{queue="${welcomeQueue}",result="duplicate",service="user-service"\\} 1$`,
        'm',
      ),
    );
  });

  it('when a consumer keeps failing on an event, then after bounded retries it ends in the dead-letter queue', async () => {
    const acc = newAccount('poison');
    await register(base, acc);
    const { finish } = await login(base, acc);
    const dead = waitForConsumed(
      consumer,
      poisonQueue,
      1,
      (e) => e.type === 'user.deleted.v1' && e.result === 'dead_letter',
      30_000,
    );
    expect(
      (
        await call(base, 'DELETE', '/me', undefined, {
          authorization: `Bearer ${finish!.body.accessToken}`,
        })
      ).status,
    ).toBe(204);
    const [d] = await dead;
    const history = consumed
      .filter((e) => e.queue === poisonQueue && e.eventId === d!.eventId)
      .map((e) => e.result);
    expect(history).toEqual(['retry', 'retry', 'dead_letter']);

    // a malformed message goes straight to the DLQ
    const malformed = waitForConsumed(
      consumer,
      poisonQueue,
      1,
      (e) => e.result === 'dead_letter' && e.eventId === undefined,
    );
    await consumer.publishRaw('user.deleted.v1', Buffer.from('{"not":"an envelope"'));
    expect((await malformed)[0]?.reason).toMatch(/not JSON/);

    const conn = await amqp.connect(testInfra.amqpUrl);
    const ch = await conn.createChannel();
    const dlq = await ch.checkQueue(`${poisonQueue}.dlq`);
    expect(dlq.messageCount).toBe(2);
    const msg = await ch.get(`${poisonQueue}.dlq`, { noAck: true });
    expect(msg && JSON.parse(msg.content.toString()).id).toBe(d!.eventId);
    await conn.close();
  });
});
