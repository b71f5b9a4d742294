import type { DataSource, EntityManager } from 'typeorm';
import type { EventPayload, EventType, TypedEvent } from '@cipherchat/contracts';
import type { ConsumeContext, ConsumerSpec } from './bus.js';

/**
 * Wraps a handler so it runs once per event id: the inbox row and the handler's writes share
 * one transaction, so a redelivered event finds its id and is skipped, and a failed handler
 * leaves no inbox row behind (it will be retried).
 * @param ds the service's DataSource
 * @param schema the service's schema (holding the inbox table)
 * @param queue queue name recorded with the id
 * @param handler the business handler; gets the transaction's manager
 * @returns a handler for {@link ConsumerSpec}
 */
export function withInbox<T extends EventType>(
  ds: DataSource,
  schema: string,
  queue: string,
  handler: (event: TypedEvent<T, EventPayload<T>>, manager: EntityManager, ctx: ConsumeContext) => Promise<void>,
): ConsumerSpec<T>['handler'] {
  return (event, ctx) =>
    ds.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO "${schema}".inbox (id, type, queue) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [event.id, event.type, queue],
      );
      if (inserted.length === 0) return 'duplicate' as const;
      await handler(event, manager, ctx);
      return 'handled' as const;
    });
}
