import amqp, { type Channel, type ChannelModel } from 'amqplib';

/** One bus event as the probe saw it. */
export interface ProbedEvent {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

/**
 * A durable test queue bound to a stack's exchange. The broker is restarted during the suite:
 * the queue survives (durable, persistent messages) and the probe reconnects, so events
 * published while it was away are delivered afterwards. Counts every delivery and dedupes by
 * event id, so duplicates the bus let through are visible.
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
  /** Times the connection was re-established after a broker restart. */
  reconnects = 0;
  private stopping = false;

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

  /** Declares the exchange (idempotent) and the queue, and starts consuming; reconnects when the broker goes away. */
  async start(): Promise<void> {
    const conn = await amqp.connect(this.url);
    this.conn = conn;
    conn.on('error', () => undefined);
    conn.on('close', () => {
      if (this.stopping) return;
      void this.reconnect();
    });
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    this.ch = ch;
    await ch.assertExchange(this.exchange, 'topic', { durable: true });
    await ch.assertQueue(this.queue, { durable: true, autoDelete: false, exclusive: false });
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

  private async reconnect(): Promise<void> {
    while (!this.stopping) {
      await new Promise((r) => setTimeout(r, 300));
      try {
        await this.start();
        this.reconnects++;
        return;
      } catch {
        // broker still down
      }
    }
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
    this.stopping = true;
    await this.ch?.deleteQueue(this.queue).catch(() => undefined);
    await this.conn?.close().catch(() => undefined);
  }
}
