import { isUnreachable, type ChatClient } from '@cipherchat/client';
import type { Me } from '@cipherchat/contracts';
import type { ChatEvent, MeView, ResumeResult } from './chat-api.js';
import { lastAccount } from './last-account.js';

/** First and longest wait between two tries to complete an offline session with the server. */
const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 30_000;

/** What {@link offlineSessions} needs from the adapter. */
export interface OfflineSessionDeps {
  client: ChatClient;
  emit: (e: ChatEvent) => void;
  /** A session started (the adapter's `me`). */
  started: (user: Me) => MeView;
  /** Whether a session is open in the page. */
  signedIn: () => boolean;
  /** The server ended the session. */
  endSession: () => void;
}

/**
 * Opening the account signed in on this browser while the server cannot be reached (the SDK's
 * offline session: history, conversations and names as last seen, sends wait in the queue), and
 * completing it as soon as the server answers: on the browser's `online` event ({@link complete})
 * and every few seconds meanwhile (a server outage with the network up fires no event). A session
 * the server does not take back ends (login screen); otherwise the conversation list is refreshed
 * from the server and the socket connects, which sends what waited.
 * @param deps the adapter's parts
 * @returns `resume` (the offline open), `complete`, `stop` (log-out)
 */
export function offlineSessions(deps: OfflineSessionDeps) {
  const { client, emit } = deps;
  let completing: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = RETRY_FIRST_MS;

  const complete = (): Promise<void> => {
    completing ??= client
      .connect()
      .then(
        () => {
          delay = RETRY_FIRST_MS;
          emit({ type: 'conversationsChanged' });
        },
        (err: unknown) => {
          // Completed, but the socket did not connect: the socket's own reconnection goes on.
          if (!client.offline || !deps.signedIn()) return;
          // Still no answer: try again later. Any answer but a welcome (401, another account,
          // a backup re-keyed elsewhere or refused as a rollback) ends it: log in again.
          if (isUnreachable(err)) schedule();
          else deps.endSession();
        },
      )
      .finally(() => {
        completing = undefined;
      });
    return completing;
  };

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void complete(), delay);
    delay = Math.min(RETRY_MAX_MS, delay * 2);
  };

  return {
    /** @returns the offline session of the account signed in here, or `none` */
    async resume(): Promise<ResumeResult> {
      const userId = await lastAccount.get().catch(() => undefined);
      if (!userId) return { kind: 'none' };
      try {
        const resumed = await client.resume({ offlineAs: userId });
        if (!resumed) return { kind: 'none' };
        const me = deps.started(resumed);
        // After the caller's state has taken the session: show the offline banner.
        setTimeout(() => emit({ type: 'connection', online: false }), 0);
        schedule();
        return { kind: 'active', me };
      } catch {
        return { kind: 'none' };
      }
    },
    complete,
    /** Stops trying (log-out). */
    stop(): void {
      clearTimeout(timer);
    },
  };
}
