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

/**
 * A device read its whole mailbox: what was dropped for it until now no longer counts against
 * its cap (held envelopes count as if stored only until it drains, as stored ones would be
 * acked then).
 * @param deps mailbox store
 * @param device the device (from the handshake)
 * @returns how many group envelopes were dropped for it because its mailbox was full
 */
export function mailboxDrained(deps: ChatDeps, device: { userId: string; deviceId: number }): Promise<number> {
  return deps.mailbox.takeDropped(deps.db, device.userId, device.deviceId);
}
