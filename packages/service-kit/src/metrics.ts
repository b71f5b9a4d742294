import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics; one registry per app so tests can run several apps. */
export interface Metrics {
  /** The registry `/metrics` serialises. */
  registry: Registry;
  /** HTTP request latency by method, route and status. */
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Age in seconds of the oldest unpublished outbox row (0 when empty). */
  outboxLag: Gauge;
  /** Outbox rows published to the broker. */
  outboxPublished: Counter;
  /** Consumer outcomes: `ack`, `duplicate`, `retry`, `dead_letter`. */
  consumerResults: Counter<'queue' | 'result'>;
}

/**
 * Creates the metrics of one service instance.
 * @param service service name, a default label
 * @param withDefaults whether to collect process metrics (off in tests that build many apps)
 * @returns the metrics
 */
export function createMetrics(service: string, withDefaults = true): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (withDefaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    outboxLag: new Gauge({
      name: 'outbox_lag_seconds',
      help: 'Age of the oldest unpublished outbox event',
      registers: [registry],
    }),
    outboxPublished: new Counter({
      name: 'outbox_published_total',
      help: 'Outbox events published with a broker confirm',
      registers: [registry],
    }),
    consumerResults: new Counter({
      name: 'bus_consumer_results_total',
      help: 'Consumed events by outcome',
      labelNames: ['queue', 'result'],
      registers: [registry],
    }),
  };
}
