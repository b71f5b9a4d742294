import type { SearchHit, SearchOptions, SearchProgress } from '../storage/search-index.js';
import type { StoredMessage } from '../messages/message.schema.js';
import type { SessionSlot } from './session.js';

export type { SearchHit, SearchOptions, SearchProgress } from '../storage/search-index.js';

/**
 * Local encrypted search over the logged-in account's message history (`client.search`; docs/client.md
 * "Local search"). Everything happens on this device, in the store: nothing is sent anywhere.
 */
export class MessageSearch {
  /** @param session the logged-in session (its store holds the index) */
  constructor(private readonly session: SessionSlot) {}

  /**
   * Finds messages whose text (or attachment caption and file name) contains `text`, ignoring
   * case, accents and character width. Builds the index first if it is not complete.
   * @param text the query: three characters or more, or any CJK text (one character is enough)
   * @param options `conversationId` to search one chat; `limit` (default 20, at most 500)
   * @returns the hits, newest first, each with a snippet of the original text; none for a query too short
   */
  query(text: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    return this.session.require().store.searchMessages(text, options);
  }

  /**
   * Builds the index from scratch (from local history, or from `source`: a restored archive's
   * messages, already merged into the store).
   * @param onProgress told as it goes (`reading` messages, then `writing` index records)
   * @param source the messages to index, in batches
   * @returns how many messages were indexed
   */
  rebuild(
    onProgress?: (p: SearchProgress) => void,
    source?: AsyncIterable<readonly StoredMessage[]>,
  ): Promise<number> {
    return this.session.require().store.rebuildSearch(onProgress, source);
  }

  /**
   * Builds the index only if it is not complete (a store from before search, an interrupted
   * build): what a search screen calls when it opens, to show progress.
   * @param onProgress told as it goes
   */
  prepare(onProgress?: (p: SearchProgress) => void): Promise<void> {
    return this.session.require().store.prepareSearch(onProgress);
  }
}
