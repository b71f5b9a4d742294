import { z } from 'zod';

/**
 * The envelope every bus event travels in. The routing key equals `type`
 * (e.g. `user.registered.v1`); consumers dedupe on `id`.
 */
export const EventEnvelope = z.object({
  /** Unique event id (UUID); the consumer inbox dedupes on it. */
  id: z.uuid(),
  /** Versioned event type, also the routing key: `<aggregate>.<past-tense verb>.v<n>`. */
  type: z.string().regex(/^[a-z]+(\.[a-z_]+)+\.v\d+$/),
  /** When the change happened (ISO 8601). */
  occurredAt: z.iso.datetime(),
  /** Id of the aggregate the event is about (user id, conversation id...). */
  aggregateId: z.string().min(1),
  /** Type-specific payload, validated against the schema registered for `type`. */
  payload: z.unknown(),
});
/** A bus event envelope with a not-yet-validated payload. */
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/** A bus event envelope whose payload has been validated. */
export type TypedEvent<T extends string, P> = Omit<EventEnvelope, 'type' | 'payload'> & {
  type: T;
  payload: P;
};
