import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** chat-service's own Prometheus metrics (registered on the service registry). */
export interface RealtimeMetrics {
  /** `message:send` handling time (validation to ack), by outcome. */
  sendDuration: Histogram<'outcome'>;
  /** Envelopes stored in mailboxes. */
  envelopesStored: Counter;
  /** Sockets connected to this process. */
  sockets: Gauge;
  /** Envelopes emitted by mailbox drains. */
  drained: Counter;
}

/**
 * @param registry the service registry (so `/metrics` shows them)
 * @returns the metrics
 */
export function createRealtimeMetrics(registry: Registry): RealtimeMetrics {
  return {
    sendDuration: new Histogram({
      name: 'chat_message_send_seconds',
      help: 'message:send handling time until the ack',
      labelNames: ['outcome'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    envelopesStored: new Counter({ name: 'chat_envelopes_stored_total', help: 'Envelopes stored in device mailboxes', registers: [registry] }),
    sockets: new Gauge({ name: 'chat_sockets_connected', help: 'Sockets connected to this process', registers: [registry] }),
    drained: new Counter({ name: 'chat_envelopes_drained_total', help: 'Envelopes sent by mailbox drains', registers: [registry] }),
  };
}
