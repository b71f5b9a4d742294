/**
 * Time rules for received messages. A plaintext's `sentAt` is its sender's clock: anyone can
 * write any number there. Where order or a time window matters, the server's timestamp of the
 * envelope (`serverTimestamp`, set by chat-service when it stored the envelope) is trusted
 * instead, within the bounds below.
 */

/** How far a plaintext's `sentAt` may be ahead of its envelope's server timestamp: 1 day. */
export const MAX_SENT_AHEAD_MS = 24 * 60 * 60 * 1000;

/** How far ahead of this device's clock a server timestamp (or my own setting) may lie: 5 minutes. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * @param serverTimestamp an envelope's server timestamp (ISO 8601), if any
 * @returns it in epoch ms, or undefined when missing or unreadable
 */
export function serverTimeOf(serverTimestamp: string | undefined): number | undefined {
  if (serverTimestamp === undefined) return undefined;
  const t = Date.parse(serverTimestamp);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * The `sentAt` a received plaintext is stored with: its own, unless it lies more than
 * {@link MAX_SENT_AHEAD_MS} after the envelope's server timestamp; then the server timestamp
 * (the message is kept, dated when the server got it).
 * @param sentAt the plaintext's `sentAt` (sender's clock)
 * @param serverTimestamp the envelope's server timestamp (ISO 8601)
 * @returns the bounded `sentAt`
 */
export function boundedSentAt(sentAt: number, serverTimestamp: string | undefined): number {
  const server = serverTimeOf(serverTimestamp);
  if (server === undefined || sentAt - server <= MAX_SENT_AHEAD_MS) return sentAt;
  return server;
}

/**
 * When a received setting (a direct chat's disappearing timer) was made, for ordering settings:
 * the envelope's server timestamp when known (else the sender's `sentAt`), never later than
 * {@link MAX_CLOCK_SKEW_MS} after `now`.
 * @param sentAt the plaintext's `sentAt`
 * @param serverTimestamp the envelope's server timestamp (ISO 8601)
 * @param now this device's clock (epoch ms)
 * @returns the moment to order it by (epoch ms)
 */
export function settingTime(
  sentAt: number,
  serverTimestamp: string | undefined,
  now: number,
): number {
  return Math.min(serverTimeOf(serverTimestamp) ?? sentAt, now + MAX_CLOCK_SKEW_MS);
}
