/**
 * What the UI needs for messages this browser could not decrypt (spread into the `ChatApi`; the
 * SDK side is sdk-retries.ts). The SDK shows no failure silently: it keeps a placeholder, asks
 * the sender's device to send the message again, and ends the placeholder with a cause when it
 * cannot. See docs/client.md "Decrypt failures and retries" and docs/web-client.md.
 */

/** Why a placeholder cannot resolve (the SDK's `RetryCause`). */
export type RetryCauseView =
  'device_removed' | 'deleted' | 'expired' | 'no_answer' | 'identity_changed' | 'left';

/** A message that could not be decrypted, waiting for its sender's device or failed with a cause. */
export interface RetryPlaceholderView {
  /** The failed message's server id. */
  messageId: string;
  conversationId: string;
  senderUserId: string;
  senderDeviceId: number;
  /** When the server stored it (ISO 8601). */
  serverTimestamp: string;
  state: 'waiting' | 'failed';
  /** Why it cannot resolve (state `failed`). */
  cause?: RetryCauseView;
}

/** Counters of decrypt failures on this browser (the diagnostics in Settings). */
export interface RetryStatsView {
  /** Waiting + failed. */
  unresolved: number;
  waiting: number;
  failed: number;
  /** Unresolved failures per sender device. */
  byDevice: Array<{ userId: string; deviceId: number; unresolved: number }>;
  /** Failures that resolved by themselves. */
  resolved: number;
  /** Retry requests this browser sent. */
  requestsSent: number;
  /** Messages this browser sent again for others. */
  resent: number;
  /** Retry requests this browser refused. */
  refused: number;
}

/** The placeholder and diagnostics calls of the `ChatApi`. */
export interface RetryApi {
  /** The placeholders of one conversation, oldest first (empty when logged out). */
  retryPlaceholders(conversationId: string): RetryPlaceholderView[];
  /** This browser's decrypt-failure counters (undefined when logged out). */
  retryStats(): RetryStatsView | undefined;
  /** Calls `listener` whenever a placeholder appears, changes or resolves; returns the unsubscribe. */
  onRetryChanged(listener: () => void): () => void;
}
