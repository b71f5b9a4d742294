import type { DataSource } from 'typeorm';
import type { Bus } from '@cipherchat/service-kit';
import { withInbox } from '@cipherchat/service-kit';
import type { ChatContext } from '../context.js';
import { deleteAttachments } from '../store/attachment.repository.js';
import { forgetUser } from '../store/user-data.repository.js';

/**
 * Consumes `user.deleted.v1`: forgets everything chat-service holds about the user (devices,
 * keys, backup, mailboxes, memberships, attachments) exactly once per event (inbox), then
 * disconnects the user's sockets.
 * @param ctx shared context
 * @param bus the bus
 * @param ds the DataSource
 * @returns the queue name
 */
export async function consumeUserDeleted(ctx: ChatContext, bus: Bus, ds: DataSource): Promise<string> {
  const queue = `${ctx.config.QUEUE_PREFIX}.user-deleted`;
  await bus.consume({
    queue,
    types: ['user.deleted.v1'] as const,
    handler: async (event, consumeCtx) => {
      let blobs: string[] = [];
      const out = await withInbox<'user.deleted.v1'>(ds, 'chat', queue, async (e, manager) => {
        const userId = e.payload.userId;
        blobs = (await deleteAttachments(manager, { ownerUserId: userId })).map((a) => a.storageKey);
        await forgetUser(manager, userId);
      })(event, consumeCtx);
      for (const key of blobs) await ctx.blobs.remove(key).catch(() => undefined);
      ctx.notifyUsers([event.payload.userId], 'session:expired');
      ctx.disconnectUser(event.payload.userId);
      return out;
    },
  });
  return queue;
}
