import type { ChatDeps } from './deps.js';
import type { MailboxRow } from './ports.js';

/**
 * One batch of a device's mailbox in `seq` order (the drain reads it batch by batch).
 * @param deps mailbox store
 * @param device the reading device (from the handshake)
 * @param afterSeq cursor (exclusive), '0' to start
 * @param limit batch size
 * @param window only rows stored in [since, until)
 * @returns the batch
 */
export function readMailboxBatch(
  deps: ChatDeps,
  device: { userId: string; deviceId: number },
  afterSeq: string,
  limit: number,
  window: { since?: Date; until?: Date } = {},
): Promise<MailboxRow[]> {
  return deps.mailbox.readMailbox(deps.db, device.userId, device.deviceId, afterSeq, limit, window.since, window.until);
}
