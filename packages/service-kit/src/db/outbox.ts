import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { eventSchemas, type EventPayload, type EventType } from '@cipherchat/contracts';

/** An event to record in the outbox. */
export interface NewEvent<T extends EventType> {
  /** Versioned type, also the routing key. */
  type: T;
  /** The aggregate the event is about. */
  aggregateId: string;
  /** The payload; validated against the contracts schema before it is stored. */
  payload: EventPayload<T>;
}

/**
 * The one way to write outbox rows: `INSERT INTO "<schema>".outbox (id, type, aggregate_id,
 * payload, occurred_at)` followed by `rows`, a `VALUES (...)` list or a `SELECT` yielding those
 * five columns in that order. A batched statement embeds it as a CTE (`ob AS (${outboxInsert(
 * 'chat', 'SELECT ... FROM unnest($1::uuid[], ...)')} RETURNING 1)`); build the text once, at
 * module load, so named statements keep one text. Payloads must already be validated against
 * their contracts schema ({@link addToOutbox} does that for single events).
 * @param schema the service's schema
 * @param rows `VALUES (...)` or `SELECT id, type, aggregate_id, payload, occurred_at ...`
 * @returns the INSERT statement (no RETURNING clause)
 */
export function outboxInsert(schema: string, rows: string): string {
  return `INSERT INTO "${schema}".outbox (id, type, aggregate_id, payload, occurred_at) ${rows}`;
}

/**
 * Records an event in the service's outbox inside the caller's transaction: it is published
 * if and only if the transaction commits (the relay does the publishing).
 * @param manager the transaction's EntityManager
 * @param schema the service's schema
 * @param event type, aggregate id and payload
 * @returns the event id
 * @throws if the payload does not match its schema (a bug in the caller)
 */
export async function addToOutbox<T extends EventType>(
  manager: EntityManager,
  schema: string,
  event: NewEvent<T>,
): Promise<string> {
  const payload = eventSchemas[event.type].parse(event.payload);
  const id = randomUUID();
  await manager.query(outboxInsert(schema, 'VALUES ($1, $2, $3, $4, now())'), [id, event.type, event.aggregateId, JSON.stringify(payload)],
  );
  return id;
}
