import type { StoredMessage } from '@cipherchat/client';
import type { MessageView } from './chat-api.js';
import type { AppState } from './reducer.js';

/** The reactions offered first (any other emoji can be typed too). Same set as the SDK's. */
export const DEFAULT_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const;

/** How long after sending its author may edit or delete a message for everyone (the SDK's rule). */
export const EDIT_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Reactions, edits and deletes (part of {@link ChatApi}; sdk-message-actions.ts implements it). */
export interface MessageActionsApi {
  /**
   * Sets my one reaction to a message, or takes it back.
   * @param messageId the message
   * @param emoji an emoji, or null to remove mine
   * @returns the message as now stored
   */
  reactToMessage(messageId: string, emoji: string | null): Promise<MessageView>;
  /** Edits my own text (or caption) within 24 h. @param messageId the message @param text the new text @returns the message */
  editMessage(messageId: string, text: string): Promise<MessageView>;
  /** Deletes my own message for everyone within 24 h. @param messageId the message @returns the tombstone */
  deleteForEveryone(messageId: string): Promise<MessageView>;
  /** Removes a message from this browser only. @param messageId the message */
  deleteForMe(messageId: string): Promise<void>;
}

/** The reaction, edit and delete fields of a message's view. */
export interface MessageChangeFields {
  /** One reaction per person. */
  reactions?: Array<{ userId: string; emoji: string }>;
  /** When its author last edited it (epoch ms). */
  editedAt?: number;
  /** Earlier texts, oldest first (kept in this browser). */
  edits?: Array<{ text: string; at: number }>;
  /** Deleted for everyone: shown as a tombstone. */
  deletedAt?: number;
}

/**
 * Maps the SDK's reaction, edit and delete fields to the view (sdk-views.ts spreads it).
 * @param m the stored message
 * @returns the fields that are set
 */
export function changeFields(m: StoredMessage): MessageChangeFields {
  const reactions = Object.entries(m.reactions ?? {}).map(([userId, r]) => ({
    userId,
    emoji: r.emoji,
  }));
  return {
    ...(reactions.length > 0 ? { reactions } : {}),
    ...(m.editedAt !== undefined ? { editedAt: m.editedAt } : {}),
    ...(m.edits?.length ? { edits: m.edits.map((e) => ({ text: e.text, at: e.at })) } : {}),
    ...(m.deletedAt !== undefined ? { deletedAt: m.deletedAt } : {}),
  };
}

/**
 * Whether I may still edit or delete a message for everyone: mine, sent, not deleted, within 24 h.
 * @param m the message
 * @param now this browser's clock
 * @returns true when the actions are offered
 */
export function canChange(m: MessageView, now = Date.now()): boolean {
  return (
    m.direction === 'out' &&
    m.deletedAt === undefined &&
    m.status !== 'sending' &&
    m.status !== 'failed' &&
    (m.kind === 'text' || m.kind === 'attachment') &&
    now - m.sentAt <= EDIT_WINDOW_MS
  );
}

/** One reaction chip: an emoji, how many reacted with it, who, and whether I am one of them. */
export interface ReactionChip {
  emoji: string;
  count: number;
  userIds: string[];
  mine: boolean;
}

/**
 * Groups a message's reactions into chips (first-seen order).
 * @param m the message
 * @param myId my user id
 * @returns the chips
 */
export function reactionChips(m: MessageView, myId: string | undefined): ReactionChip[] {
  const chips = new Map<string, ReactionChip>();
  for (const r of m.reactions ?? []) {
    const chip = chips.get(r.emoji) ?? { emoji: r.emoji, count: 0, userIds: [], mine: false };
    chip.count += 1;
    chip.userIds.push(r.userId);
    chip.mine ||= r.userId === myId;
    chips.set(r.emoji, chip);
  }
  return [...chips.values()];
}

/**
 * The state without a message (delete for me); the reducer's `messageRemoved`.
 * @param state current state
 * @param conversationId its conversation
 * @param messageId the message
 * @returns the next state
 */
export function withoutMessage(
  state: AppState,
  conversationId: string,
  messageId: string,
): AppState {
  const list = state.messages[conversationId];
  const last = state.lastMessage[conversationId];
  const nextList = list?.filter((m) => m.id !== messageId);
  return {
    ...state,
    messages: nextList ? { ...state.messages, [conversationId]: nextList } : state.messages,
    lastMessage:
      last?.id === messageId
        ? { ...state.lastMessage, [conversationId]: nextList?.at(-1) }
        : state.lastMessage,
  };
}
