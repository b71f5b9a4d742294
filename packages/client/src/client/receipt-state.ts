import { STATUS_ORDER, type StoredMessage } from '../messages/message.schema.js';

/** A receipt as the receiver decrypted it (kind `receipt`). */
export interface IncomingReceipt {
  /** `delivered`: a device of theirs has it; `read`: they read it. */
  type: 'delivered' | 'read';
  /** Who sent the receipt (authenticated by the Signal session). */
  fromUserId: string;
  /** The conversation the receipt's plaintext names. */
  conversationId: string;
}

/**
 * The stored message after one receipt, or undefined when nothing changes.
 *
 * - A receipt from one of my own devices for a message I received: my other device read it
 *   (`status` becomes `read`; "delivered" from myself changes nothing).
 * - A receipt from someone else for a message I sent: `status` only ever moves forward (as
 *   before), and the sender is added to `deliveredTo` (both types: a read message was delivered)
 *   and, for `read`, to `readBy`. That is the per-member state a group shows ("Read by 2 of 4").
 * - My own receipts never count as a member's, and a receipt never moves a message of another
 *   conversation.
 * @param m the stored message the receipt names
 * @param receipt the receipt
 * @param me my user id
 * @returns the updated message, or undefined when it stays as it is
 */
export function applyReceipt(
  m: StoredMessage,
  receipt: IncomingReceipt,
  me: string,
): StoredMessage | undefined {
  if (m.conversationId !== receipt.conversationId) return undefined;
  if (receipt.fromUserId === me) {
    if (m.direction === 'in' && receipt.type === 'read' && m.status !== 'read')
      return { ...m, status: 'read' };
    return undefined;
  }
  if (m.direction !== 'out') return undefined;
  const status = STATUS_ORDER[receipt.type] > STATUS_ORDER[m.status] ? receipt.type : m.status;
  const deliveredTo = withMember(m.deliveredTo, receipt.fromUserId);
  const readBy = receipt.type === 'read' ? withMember(m.readBy, receipt.fromUserId) : m.readBy;
  if (status === m.status && deliveredTo === m.deliveredTo && readBy === m.readBy) return undefined;
  return {
    ...m,
    status,
    ...(deliveredTo ? { deliveredTo } : {}),
    ...(readBy ? { readBy } : {}),
  };
}

/**
 * How far one of my messages got with the other members of its conversation.
 * @param m my message
 * @param recipients the other members (user ids, me excluded) it counts against, e.g. a group's
 *   members now; members who answered but left since are counted too
 * @returns who read it and who has it, out of how many
 */
export function receiptSummary(
  m: Pick<StoredMessage, 'readBy' | 'deliveredTo'>,
  recipients: readonly string[],
): { readBy: string[]; deliveredTo: string[]; total: number } {
  const readBy = [...new Set(m.readBy ?? [])];
  const deliveredTo = [...new Set([...(m.deliveredTo ?? []), ...readBy])];
  const everyone = new Set([...recipients, ...deliveredTo]);
  return { readBy, deliveredTo, total: everyone.size };
}

/** The list with the member added (the same array when already there, so callers can tell). */
function withMember(list: string[] | undefined, userId: string): string[] | undefined {
  if (list?.includes(userId)) return list;
  return [...(list ?? []), userId];
}
