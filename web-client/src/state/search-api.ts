/** One message found by the local search, as the results list shows it. */
export interface SearchHitView {
  conversationId: string;
  messageId: string;
  /** Sender's clock, epoch ms (hits come newest first). */
  sentAt: number;
  senderUserId: string;
  direction: 'in' | 'out';
  /** The original text around the first match; `start`/`end` mark the match in it. */
  snippet: { text: string; start: number; end: number };
}

/** How far building the search index got (a browser from before search builds it once). */
export interface SearchProgressView {
  phase: 'reading' | 'writing';
  done: number;
  total?: number;
}

/**
 * The local search part of the {@link ChatApi}: over the SDK's encrypted index in this browser
 * (docs/web-client.md "Search"). Nothing leaves the device.
 */
export interface SearchApi {
  /**
   * Messages whose text contains `query` (case, accents and width ignored), newest first; none
   * when the query is too short (under three characters, unless it holds CJK).
   */
  searchMessages(
    query: string,
    options?: { conversationId?: string; limit?: number },
  ): Promise<SearchHitView[]>;
  /** Builds the index when this browser has none yet, telling how far it got. */
  prepareSearch(onProgress?: (p: SearchProgressView) => void): Promise<void>;
}
