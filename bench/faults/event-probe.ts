import amqp, { type Channel, type ChannelModel } from 'amqplib';

/** One bus event as the probe saw it. */
export interface ProbedEvent {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

/**
 * A test queue bound to a stack's exchange (connected to the REAL RabbitMQ, not through the
 * stack's proxy, so cutting the stack's broker link does not blind the probe). Counts every
 * delivery and dedupes by event id, so duplicates the bus let through are visible.
 */
export class EventProbe {
  private conn: ChannelModel | undefined;
  private ch: Channel | undefined;
  /** Deliveries per event id. */
  readonly deliveries = new Map<string, number>();
  /** First copy of each event. */
  readonly events = new Map<string, ProbedEvent>();
  /** Deliveries that were not valid JSON envelopes. */
  malformed = 0;

  /**
   * @param url amqp URL of the real broker
   * @param exchange the stack's topic exchange
   * @param queue a unique queue name for this run
   * @param bindings routing keys to bind
   */
  constructor(
    private readonly url: string,
    private readonly exchange: string,
    private readonly queue: string,
    private readonly bindings: string[],
  ) {}

  /** Declares the exchange (idempotent) and the queue, and starts consuming. */
  async start(): Promise<void> {
    this.conn = await amqp.connect(this.url);
    const ch = await this.conn.createChannel();
    this.ch = ch;
    await ch.assertExchange(this.exchange, 'topic', { durable: true });
    await ch.assertQueue(this.queue, { durable: false, autoDelete: false, exclusive: true });
    for (const b of this.bindings) await ch.bindQueue(this.queue, this.exchange, b);
    await ch.consume(this.queue, (msg) => {
      if (!msg) return;
      try {
        const e = JSON.parse(msg.content.toString('utf8')) as ProbedEvent;
        if (typeof e.id !== 'string') throw new Error('no id');
        this.deliveries.set(e.id, (this.deliveries.get(e.id) ?? 0) + 1);
        if (!this.events.has(e.id)) this.events.set(e.id, e);
      } catch {
        this.malformed++;
      }
      ch.ack(msg);
    });
  }

  /** @returns total deliveries (including duplicates) */
  totalDeliveries(): number {
    let n = 0;
    for (const v of this.deliveries.values()) n += v;
    return n;
  }

  /** @returns deliveries beyond the first per event id */
  duplicateDeliveries(): number {
    let n = 0;
    for (const v of this.deliveries.values()) n += v - 1;
    return n;
  }

  /** Deletes the queue and disconnects. */
  async stop(): Promise<void> {
    await this.ch?.deleteQueue(this.queue).catch(() => undefined);
    await this.conn?.close().catch(() => undefined);
  }
}
