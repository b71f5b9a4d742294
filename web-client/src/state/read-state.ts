import type { ConversationView, MessageView } from './chat-api.js';

/** How far one of my group messages got with the other members. */
export interface GroupReadState {
  /** Who read it (user ids, in the order their receipts came). */
  readBy: string[];
  /** Who has it on a device (read included). */
  deliveredTo: string[];
  /** Out of how many: the other members now, plus anyone who answered and left since. */
  total: number;
}

/**
 * Per-member receipts of my message in a group (the SDK's `readBy` / `deliveredTo`), counted
 * against the group's other members; undefined for direct chats and messages not sent yet (they
 * keep the single ✓ / ✓✓ / Read status).
 * @param message my message
 * @param conversation its conversation
 * @param me my user id
 * @returns the state to show, or undefined
 */
export function groupReadState(
  message: MessageView,
  conversation: ConversationView | undefined,
  me: string | undefined,
): GroupReadState | undefined {
  if (conversation?.kind !== 'group' || message.direction !== 'out') return undefined;
  if (message.status === 'sending' || message.status === 'failed') return undefined;
  const readBy = [...new Set(message.readBy ?? [])].filter((id) => id !== me);
  const deliveredTo = [...new Set([...(message.deliveredTo ?? []), ...readBy])].filter(
    (id) => id !== me,
  );
  const others = conversation.members.map((m) => m.userId).filter((id) => id !== me);
  return { readBy, deliveredTo, total: new Set([...others, ...deliveredTo]).size };
}
