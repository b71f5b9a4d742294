import type { StoredMessage } from '../messages/message.schema.js';
import type { HistoryCursor } from '../storage/history-index.js';
import type { Receipts } from './receipts.js';
import type { SessionSlot } from './session.js';

/** Messages per page when the caller does not say. */
export const DEFAULT_PAGE_SIZE = 50;

/** What the conversation list shows for one conversation, from the local store. */
export interface ConversationSummary {
  /** The latest message, if any. */
  last: StoredMessage | undefined;
  /** Incoming messages not read yet (status `received`), however long the history. */
  unread: number;
  /** Of those, the ones that mention me (what a muted conversation counts). */
  unreadMentions: number;
}

/**
 * Paged history over the store's history index (`client.messages`): a page of one conversation
 * opens only that page's records, and summaries count unread messages without opening any
 * (docs/client.md "History index and paging").
 */
export class HistoryPages {
  /** @param deps the session, and the receipts that `markAllRead` sends */
  constructor(private readonly deps: { session: SessionSlot; receipts: Receipts }) {}

  /**
   * The latest messages of a conversation.
   * @param conversationId conversation
   * @param limit how many (default {@link DEFAULT_PAGE_SIZE})
   * @returns them, oldest first
   */
  latest(conversationId: string, limit = DEFAULT_PAGE_SIZE): Promise<StoredMessage[]> {
    return this.page(conversationId, { limit });
  }

  /**
   * The messages just older than a cursor (the oldest message shown: its `sentAt` and `id`).
   * @param conversationId conversation
   * @param cursor exclusive upper end
   * @param limit how many (default {@link DEFAULT_PAGE_SIZE})
   * @returns them, oldest first; fewer than `limit` (or none) at the start of the history
   */
  before(
    conversationId: string,
    cursor: HistoryCursor,
    limit = DEFAULT_PAGE_SIZE,
  ): Promise<StoredMessage[]> {
    return this.page(conversationId, { before: cursor, limit });
  }

  /**
   * One page: the latest, or older than `before`.
   * @param conversationId conversation
   * @param options `before` cursor, `limit` (1..1000)
   * @returns the page, oldest first
   */
  page(
    conversationId: string,
    options: { before?: HistoryCursor; limit?: number },
  ): Promise<StoredMessage[]> {
    const limit = Math.min(Math.max(Math.floor(options.limit ?? DEFAULT_PAGE_SIZE), 1), 1000);
    return this.deps.session.require().store.pageMessages(conversationId, {
      limit,
      ...(options.before ? { before: options.before } : {}),
    });
  }

  /**
   * @param conversationId conversation
   * @returns its latest message and its unread counts (one record opened, plus unread messages that mention someone)
   */
  async summary(conversationId: string): Promise<ConversationSummary> {
    const s = this.deps.session.require();
    const [latest, unread] = await Promise.all([
      s.store.pageMessages(conversationId, { limit: 1 }),
      s.store.unreadSummary(conversationId, s.user.id),
    ]);
    return { last: latest[0], unread: unread.count, unreadMentions: unread.mentions };
  }

  /**
   * Marks every unread incoming message of a conversation read (the reader opened it), with
   * read receipts as {@link Receipts.markRead} sends them.
   * @param conversationId conversation
   * @returns the ids marked
   */
  async markAllRead(conversationId: string): Promise<string[]> {
    const ids = await this.deps.session.require().store.unreadMessageIds(conversationId);
    if (ids.length > 0) await this.deps.receipts.markRead(conversationId, ids);
    return ids;
  }
}
