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
  await manager.query(
    `INSERT INTO "${schema}".outbox (id, type, aggregate_id, payload, occurred_at) VALUES ($1, $2, $3, $4, now())`,
    [id, event.type, event.aggregateId, JSON.stringify(payload)],
  );
  return id;
}
