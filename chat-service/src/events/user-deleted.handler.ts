import type { DataSource } from 'typeorm';
import type { Bus } from '@cipherchat/service-kit';
import { withInbox } from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import { afterUserForgotten, forgetDeletedUser } from '../domain/accounts.js';

/**
 * Consumes `user.deleted.v1`: forgets everything chat-service holds about the user (devices,
 * keys, backup, mailboxes, memberships, attachments) exactly once per event (inbox), then
 * disconnects the user's sockets.
 * @param deps use-case dependencies
 * @param bus the bus
 * @param ds the DataSource (the inbox transaction)
 * @returns the queue name
 */
export async function consumeUserDeleted(deps: ChatDeps, bus: Bus, ds: DataSource): Promise<string> {
  const queue = `${deps.config.QUEUE_PREFIX}.user-deleted`;
  await bus.consume({
    queue,
    types: ['user.deleted.v1'] as const,
    handler: async (event, consumeCtx) => {
      let blobs: string[] = [];
      const out = await withInbox<'user.deleted.v1'>(ds, 'chat', queue, async (e, manager) => {
        blobs = await forgetDeletedUser(deps, manager, e.payload.userId);
      })(event, consumeCtx);
      await afterUserForgotten(deps, event.payload.userId, blobs);
      return out;
    },
  });
  return queue;
}
