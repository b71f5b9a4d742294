import type { ChatClient } from '@cipherchat/client';
import type { SearchApi } from './search-api.js';

/**
 * The {@link SearchApi} over the SDK's `client.search` (the index lives in the sealed store).
 * @param client the SDK client
 * @returns the search methods of the adapter
 */
export function sdkSearch(client: ChatClient): SearchApi {
  return {
    searchMessages: (query, options = {}) => client.search.query(query, options),
    prepareSearch: (onProgress) => client.search.prepare(onProgress),
  };
}
