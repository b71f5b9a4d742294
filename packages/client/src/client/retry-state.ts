import type { RetryControl } from '../messages/message.schema.js';

/**
 * Why a placeholder ended without its message (docs/client.md "Decrypt failures and retries",
 * cause table): `device_removed` the sender's device was removed before it could send it again;
 * `deleted` the sender deleted it for everyone; `expired` it disappeared (timer) or left the
 * sender's history; `no_answer` the sender's device did not send it again within the give-up
 * time (it was offline all along, or the message was older than its window); `identity_changed`
 * the sender's safety number changed, so nothing can be asked until it is accepted; `left` the
 * sender is no longer in the conversation (in my view), so it is not asked.
 */
export type RetryCause =
  'device_removed' | 'deleted' | 'expired' | 'no_answer' | 'identity_changed' | 'left';

/** A message this device could not decrypt, shown in its chat until it resolves (or with why it cannot). */
export interface RetryPlaceholder {
  /** The failed envelope's server message id. */
  messageId: string;
  conversationId: string;
  senderUserId: string;
  senderDeviceId: number;
  /** When the server stored it (ISO 8601): where it sits in the chat. */
  serverTimestamp: string;
  /** When it failed here (epoch ms). */
  failedAt: number;
  /** The decrypt error's code (`no_session`, `invalid_message`). */
  code: string;
  /** `waiting` for the sender's device to send it again; `failed` with a cause. */
  state: 'waiting' | 'failed';
  /** Why it failed (state `failed`). */
  cause?: RetryCause;
  /** Retry requests sent so far. */
  requests: number;
  /** When the last request went out (epoch ms). */
  lastRequestAt?: number;
}

/** A placeholder as the `retryChanged` event tells it: waiting, failed, or resolved (`resolvedId`: the message now in its place). */
export type RetryUpdate =
  RetryPlaceholder | (Omit<RetryPlaceholder, 'state'> & { state: 'resolved'; resolvedId?: string });

/** How long a placeholder waits before it says "not re-sent" (48 h: twice the sender's window). A late resend still resolves it. */
export const RETRY_GIVE_UP_MS = 48 * 60 * 60 * 1000;
/** Requests for one placeholder, at most (the first one normally suffices; later ones cover a lost request). */
export const MAX_REQUESTS = 3;
/** Wait between two requests for the same placeholder. */
export const RE_REQUEST_MS = 30_000;
/** Placeholders kept on a device, at most (the oldest failed ones go first). */
export const MAX_PLACEHOLDERS = 500;

/**
 * Whether a decrypt failure is worth a retry request: a broken or missing session. Not a replay
 * (`duplicate_message`: the original was read), nor an attack on identities (`foreign_device`,
 * `own_identity_key`), nor a plaintext that decrypted but was refused (a resend would be the same).
 * @param code the decrypt error's code
 * @returns true when the sender is asked to send it again
 */
export function isRetryable(code: string): boolean {
  return code === 'no_session' || code === 'invalid_message';
}

/**
 * A new placeholder for an envelope that failed to decrypt.
 * @param env the failed envelope
 * @param code the decrypt error's code
 * @param now clock
 * @returns the placeholder, waiting
 */
export function newPlaceholder(
  env: {
    messageId: string;
    conversationId: string;
    senderUserId: string;
    senderDeviceId: number;
    serverTimestamp: string;
  },
  code: string,
  now: number,
): RetryPlaceholder {
  return {
    messageId: env.messageId,
    conversationId: env.conversationId,
    senderUserId: env.senderUserId,
    senderDeviceId: env.senderDeviceId,
    serverTimestamp: env.serverTimestamp,
    failedAt: now,
    code,
    state: 'waiting',
    requests: 0,
  };
}

/**
 * @param p a placeholder
 * @param cause why it cannot resolve
 * @returns it, failed with that cause
 */
export function failed(p: RetryPlaceholder, cause: RetryCause): RetryPlaceholder {
  return { ...p, state: 'failed', cause };
}

/**
 * The cause an `answer` from the sender's device gives (op `answer`): undefined when the
 * placeholder just goes away (a receipt or typing message: nothing to show).
 * @param reason the answer's reason
 * @returns the cause to show, or undefined to remove the placeholder
 */
export function causeOfAnswer(reason: RetryControl['reason']): RetryCause | undefined {
  if (reason === 'deleted') return 'deleted';
  if (reason === 'expired') return 'expired';
  return undefined;
}

/**
 * What to do with a waiting placeholder now: ask (again), give up, or wait.
 * @param p the placeholder
 * @param now clock
 * @param giveUpMs how long it waits in all
 * @returns `request`, `give_up` or `wait`
 */
export function nextStep(
  p: RetryPlaceholder,
  now: number,
  giveUpMs = RETRY_GIVE_UP_MS,
): 'request' | 'give_up' | 'wait' {
  if (p.state !== 'waiting') return 'wait';
  if (now - p.failedAt >= giveUpMs) return 'give_up';
  if (p.requests === 0) return 'request';
  if (p.requests < MAX_REQUESTS && now - (p.lastRequestAt ?? 0) >= RE_REQUEST_MS) return 'request';
  return 'wait';
}

/** Counters of decrypt failures on this device (the SDK's `retries.stats()` and the diagnostics page). */
export interface RetryStats {
  /** Placeholders waiting for a resend. */
  waiting: number;
  /** Placeholders that cannot resolve (with a cause). */
  failed: number;
  /** Unresolved failures (waiting + failed). */
  unresolved: number;
  /** Unresolved failures per sender device. */
  byDevice: Array<{ userId: string; deviceId: number; unresolved: number }>;
  /** Failures resolved by a resend since this store was created. */
  resolved: number;
  /** Retry requests this device sent. */
  requestsSent: number;
  /** Messages this device sent again for others. */
  resent: number;
  /** Retry requests this device refused (unknown message, not a reader, over the limits). */
  refused: number;
}

/** The counters kept in the store besides the placeholders. */
export interface RetryCounters {
  resolved: number;
  requestsSent: number;
  resent: number;
  refused: number;
}

/**
 * @param placeholders this device's placeholders
 * @param counters its counters
 * @returns the stats
 */
export function statsOf(
  placeholders: readonly RetryPlaceholder[],
  counters: RetryCounters,
): RetryStats {
  const byDevice = new Map<string, { userId: string; deviceId: number; unresolved: number }>();
  for (const p of placeholders) {
    const key = `${p.senderUserId}.${p.senderDeviceId}`;
    const d = byDevice.get(key) ?? {
      userId: p.senderUserId,
      deviceId: p.senderDeviceId,
      unresolved: 0,
    };
    d.unresolved += 1;
    byDevice.set(key, d);
  }
  const waiting = placeholders.filter((p) => p.state === 'waiting').length;
  return {
    waiting,
    failed: placeholders.length - waiting,
    unresolved: placeholders.length,
    byDevice: [...byDevice.values()],
    ...counters,
  };
}

/**
 * Keeps at most {@link MAX_PLACEHOLDERS}: the oldest failed ones go first, then the oldest.
 * @param list placeholders, oldest first
 * @returns the list to keep
 */
export function capPlaceholders(list: RetryPlaceholder[]): RetryPlaceholder[] {
  let out = list;
  while (out.length > MAX_PLACEHOLDERS) {
    const i = out.findIndex((p) => p.state === 'failed');
    out = i >= 0 ? [...out.slice(0, i), ...out.slice(i + 1)] : out.slice(1);
  }
  return out;
}

/**
 * @param list placeholders
 * @param of a placeholder (its sender's device)
 * @returns how many placeholders of that device were asked for and still wait
 */
export function unansweredOf(
  list: readonly RetryPlaceholder[],
  of: Pick<RetryPlaceholder, 'senderUserId' | 'senderDeviceId'>,
): number {
  return list.filter(
    (x) =>
      x.senderUserId === of.senderUserId &&
      x.senderDeviceId === of.senderDeviceId &&
      x.state === 'waiting' &&
      x.requests > 0,
  ).length;
}
