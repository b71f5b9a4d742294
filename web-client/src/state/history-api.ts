import type { MessageView } from './chat-api.js';

/** Which page of a conversation's history to load. */
export interface HistoryQuery {
  /** Older than this message (exclusive): its `sentAt` (epoch ms)... */
  before?: number;
  /** ...and its id (orders messages of the same millisecond). Without it, `before` alone. */
  beforeId?: string;
  /** How many messages at most. */
  limit: number;
}

/** What the conversation list shows for one conversation. */
export interface ConversationSummaryView {
  /** The latest message, if any. */
  last: MessageView | undefined;
  /** Incoming messages not read yet, however long the history. */
  unread: number;
  /** Of those, the ones that mention me (what a muted conversation counts). */
  unreadMentions: number;
}

/** The local history part of the {@link ChatApi}: pages and summaries over the SDK's history index. */
export interface HistoryApi {
  /** Decrypted local history, newest last: the latest page, or the page before `before`/`beforeId`. */
  history(conversationId: string, options: HistoryQuery): Promise<MessageView[]>;
  /** The latest message and unread counts of a conversation, exact at any history length. */
  summary(conversationId: string): Promise<ConversationSummaryView>;
  /** Marks every unread message of a conversation read (read receipts go as for `markRead`). */
  markAllRead(conversationId: string): Promise<void>;
}
