import { EventEmitter } from 'node:events';
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { EventEnvelope, eventSchemas, type EventPayload, type EventType, type TypedEvent } from '@cipherchat/contracts';
import type { Metrics } from '../metrics.js';

/** Retry policy of consumers: bounded attempts with exponential backoff, then the DLQ. */
export interface RetryPolicy {
  /** Total attempts including the first (default 5). */
  maxAttempts: number;
  /** Delay before the first retry in ms; doubles each time (default 500). */
  baseDelayMs: number;
  /** Cap on one delay (default 30 s). */
  maxDelayMs: number;
}

/** Options of {@link Bus}. */
export interface BusOptions {
  /** amqp:// URL. */
  url: string;
  /** Topic exchange name. */
  exchange: string;
  /** Logger. */
  logger: Logger;
  /** Metrics (consumer results). */
  metrics: Metrics;
  /** Consumer retry policy. */
  retry?: Partial<RetryPolicy>;
  /** Unacked messages per consumer (default 16). */
  prefetch?: number;
}

/** What a handler gets with each event. */
export interface ConsumeContext {
  /** 1 on first delivery, then 2, 3... on retries. */
  attempt: number;
}

/** A consumer registration. */
export interface ConsumerSpec<T extends EventType> {
  /** Durable queue name, `<service>.<purpose>`; `<queue>.retry` and `<queue>.dlq` are derived. */
  queue: string;
  /** Event types (routing keys) bound to the queue. */
  types: readonly T[];
  /** Handles one validated event. Throw to retry. Returns `duplicate` when the inbox had it. */
  handler: (event: TypedEvent<T, EventPayload<T>>, ctx: ConsumeContext) => Promise<'handled' | 'duplicate' | void>;
}

/** Emitted as `consumed` after each delivery is settled (tests await these; no polling). */
export interface ConsumedEvent {
  queue: string;
  eventId: string | undefined;
  type: string | undefined;
  result: 'ack' | 'duplicate' | 'retry' | 'dead_letter';
  reason?: string;
}

/**
 * The RabbitMQ bus: a durable topic exchange, publishing on a confirm channel, consumers
 * with manual acks, bounded retries through a per-queue TTL retry queue, and a per-queue
 * dead-letter queue. Reconnects by itself; consumers are re-established on reconnect.
 * Emits `consumed` ({@link ConsumedEvent}) per settled delivery and `disconnected` when the
 * connection drops (tests await these).
 */
export class Bus extends EventEmitter {
  private connection: ChannelModel | undefined;
  private publishChannel: ConfirmChannel | undefined;
  private readonly consumers: ConsumerSpec<EventType>[] = [];
  private readonly retry: RetryPolicy;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  /** @param options connection, exchange, logger, metrics, retry policy */
  constructor(private readonly options: BusOptions) {
    super();
    this.retry = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, ...options.retry };
  }

  /** True while connected with a usable publish channel. */
  isReady(): boolean {
    return this.publishChannel !== undefined;
  }

  /**
   * Connects now; on failure keeps retrying in the background (the service still starts, and
   * `/ready` says the bus is down until it is back).
   * @param wait whether to wait for the first successful connection
   */
  async start(wait = false): Promise<void> {
    const first = this.connect();
    if (wait) await first;
    else first.catch(() => undefined);
  }

  /**
   * Registers a consumer; it runs now if connected and again after every reconnect.
   * @param spec queue, types and handler
   */
  async consume<T extends EventType>(spec: ConsumerSpec<T>): Promise<void> {
    this.consumers.push(spec as unknown as ConsumerSpec<EventType>);
    if (this.connection) await this.setupConsumer(this.connection, spec as unknown as ConsumerSpec<EventType>);
  }

  /**
   * Publishes envelopes as persistent messages and waits for the broker's confirms.
   * @param events validated envelopes, in order
   * @throws when not connected or the broker refuses
   */
  async publish(events: readonly EventEnvelope[]): Promise<void> {
    const ch = this.publishChannel;
    if (!ch) throw new Error('bus not connected');
    for (const e of events) {
      ch.publish(this.options.exchange, e.type, Buffer.from(JSON.stringify(e)), {
        persistent: true,
        messageId: e.id,
        type: e.type,
        contentType: 'application/json',
        timestamp: Math.floor(Date.parse(e.occurredAt) / 1000),
      });
    }
    await ch.waitForConfirms();
  }

  /**
   * Publishes raw bytes to a routing key (tests use it to inject malformed events).
   * @param routingKey routing key
   * @param content raw body
   */
  async publishRaw(routingKey: string, content: Buffer): Promise<void> {
    const ch = this.publishChannel;
    if (!ch) throw new Error('bus not connected');
    ch.publish(this.options.exchange, routingKey, content, { persistent: true });
    await ch.waitForConfirms();
  }

  /** Closes channels and the connection; no reconnect after this. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    await this.connecting?.catch(() => undefined);
    const conn = this.connection;
    this.connection = undefined;
    this.publishChannel = undefined;
    await conn?.close().catch(() => undefined);
  }

  private connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const { logger } = this.options;
    try {
      const conn = await amqp.connect(this.options.url, { clientProperties: { connection_name: this.options.exchange } });
      conn.on('error', (err) => logger.warn({ err }, 'amqp connection error'));
      conn.on('close', () => this.onClose(conn));
      const ch = await conn.createConfirmChannel();
      ch.on('error', (err) => logger.warn({ err }, 'amqp publish channel error'));
      await ch.assertExchange(this.options.exchange, 'topic', { durable: true });
      this.connection = conn;
      for (const spec of this.consumers) await this.setupConsumer(conn, spec);
      this.publishChannel = ch;
      logger.info({ exchange: this.options.exchange }, 'bus connected');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'bus connection failed; retrying');
      this.scheduleReconnect();
      throw err;
    }
  }

  private onClose(conn: ChannelModel): void {
    if (this.connection !== conn) return;
    this.connection = undefined;
    this.publishChannel = undefined;
    if (this.closing) return;
    this.options.logger.warn('bus connection closed; reconnecting');
    this.emit('disconnected');
    this.scheduleReconnect();
  }

  private scheduleReconnect(attempt = 0): void {
    if (this.closing || this.reconnectTimer) return;
    const delay = Math.min(250 * 2 ** attempt, 5_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch(() => undefined);
    }, delay);
    this.reconnectTimer.unref();
  }

  private async setupConsumer(conn: ChannelModel, spec: ConsumerSpec<EventType>): Promise<void> {
    const { exchange, logger, metrics } = this.options;
    const ch = await conn.createConfirmChannel();
    ch.on('error', (err) => logger.warn({ err, queue: spec.queue }, 'amqp consumer channel error'));
    const dlq = `${spec.queue}.dlq`;
    const retryQueue = `${spec.queue}.retry`;
    await ch.assertExchange(exchange, 'topic', { durable: true });
    await ch.assertQueue(dlq, { durable: true });
    // Retry queue: messages sit there for their per-message TTL, then dead-letter back to the main queue.
    await ch.assertQueue(retryQueue, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': spec.queue },
    });
    // Main queue: a nack without requeue dead-letters to the DLQ.
    await ch.assertQueue(spec.queue, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq },
    });
    for (const type of spec.types) await ch.bindQueue(spec.queue, exchange, type);
    await ch.prefetch(this.options.prefetch ?? 16);

    const settle = (msg: ConsumeMessage, result: ConsumedEvent['result'], event: Partial<EventEnvelope>, reason?: string) => {
      metrics.consumerResults.inc({ queue: spec.queue, result });
      this.emit('consumed', { queue: spec.queue, eventId: event.id, type: event.type, result, reason } satisfies ConsumedEvent);
    };

    await ch.consume(spec.queue, (msg) => {
      if (!msg) return;
      void this.handleDelivery(ch, spec, msg, retryQueue, settle);
    });
  }

  private async handleDelivery(
    ch: ConfirmChannel,
    spec: ConsumerSpec<EventType>,
    msg: ConsumeMessage,
    retryQueue: string,
    settle: (msg: ConsumeMessage, result: ConsumedEvent['result'], event: Partial<EventEnvelope>, reason?: string) => void,
  ): Promise<void> {
    const { logger } = this.options;
    const parsed = parseDelivery(msg);
    if (!parsed.ok) {
      logger.error({ queue: spec.queue, routingKey: msg.fields.routingKey, reason: parsed.reason }, 'malformed event sent to dead-letter queue');
      ch.nack(msg, false, false);
      settle(msg, 'dead_letter', parsed.partial, parsed.reason);
      return;
    }
    const event = parsed.event;
    const attempt = Number(msg.properties.headers?.['x-attempt'] ?? 0) + 1;
    try {
      const outcome = await spec.handler(event as TypedEvent<EventType, EventPayload<EventType>>, { attempt });
      ch.ack(msg);
      settle(msg, outcome === 'duplicate' ? 'duplicate' : 'ack', event);
    } catch (err) {
      const reason = (err as Error).message;
      if (attempt >= this.retry.maxAttempts) {
        logger.error({ queue: spec.queue, eventId: event.id, type: event.type, attempt, reason }, 'event failed every attempt; sent to dead-letter queue');
        ch.nack(msg, false, false);
        settle(msg, 'dead_letter', event, reason);
        return;
      }
      const delay = Math.min(this.retry.baseDelayMs * 2 ** (attempt - 1), this.retry.maxDelayMs);
      logger.warn({ queue: spec.queue, eventId: event.id, type: event.type, attempt, delay, reason }, 'event handler failed; will retry');
      try {
        // The retry copy must be safely stored before the original is acked.
        ch.sendToQueue(retryQueue, msg.content, {
          persistent: true,
          expiration: String(delay),
          messageId: msg.properties.messageId,
          contentType: msg.properties.contentType,
          headers: { ...msg.properties.headers, 'x-attempt': attempt },
        });
        await ch.waitForConfirms();
        ch.ack(msg);
        settle(msg, 'retry', event, reason);
      } catch (publishErr) {
        // Channel trouble: leave the message unacked; the broker redelivers it.
        logger.warn({ err: publishErr, queue: spec.queue }, 'could not schedule retry');
      }
    }
  }
}

type ParsedDelivery =
  | { ok: true; event: EventEnvelope }
  | { ok: false; reason: string; partial: Partial<EventEnvelope> };

function parseDelivery(msg: ConsumeMessage): ParsedDelivery {
  let raw: unknown;
  try {
    raw = JSON.parse(msg.content.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not JSON', partial: {} };
  }
  const envelope = EventEnvelope.safeParse(raw);
  if (!envelope.success) {
    return { ok: false, reason: `bad envelope: ${envelope.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, partial: {} };
  }
  const type = envelope.data.type as EventType;
  const schema = eventSchemas[type];
  if (!schema) return { ok: false, reason: `unknown event type ${type}`, partial: envelope.data };
  const payload = schema.safeParse(envelope.data.payload);
  if (!payload.success) {
    return { ok: false, reason: `bad payload: ${payload.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, partial: envelope.data };
  }
  return { ok: true, event: { ...envelope.data, payload: payload.data } };
}
