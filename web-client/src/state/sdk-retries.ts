import type { ChatClient } from '@cipherchat/client';
import type { RetryApi } from './retries.js';

/**
 * The SDK side of {@link RetryApi} (sdk-adapter.ts spreads it into the `ChatApi`).
 * @param client the SDK client
 * @returns the placeholder and diagnostics calls
 */
export function sdkRetries(client: ChatClient): RetryApi {
  // Logged out, the SDK has no store: nothing to show, not an error.
  const signedIn = () => {
    try {
      return client.store !== undefined;
    } catch {
      return false;
    }
  };
  return {
    retryPlaceholders: (conversationId) =>
      signedIn() ? client.retries.pending(conversationId) : [],
    retryStats: () => (signedIn() ? client.retries.stats() : undefined),
    onRetryChanged: (listener) => client.on('retryChanged', () => listener()),
  };
}
