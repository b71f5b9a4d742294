import { Conversation as ConversationSchema, Me, PublicUser } from '@cipherchat/contracts';
import { z } from 'zod';
import type { ProtocolStore } from '../storage/protocol-store.js';
import type { Conversation } from '../transport/chat-endpoints.js';
import { ApiError } from '../transport/api-error.js';

/**
 * What this device keeps (sealed in its local store, like the history) so the account can be
 * opened and read while the server cannot be reached: who I am, my conversation list and the
 * names of the people in it, and when the server last confirmed this session (docs/client.md
 * "Offline").
 */
const META_ME = 'offline.me';
const META_CONVERSATIONS = 'offline.conversations';
const META_USERS = 'offline.users';

/**
 * How long after the server last confirmed this session the account may still be opened
 * offline: the default lifetime of a refresh token (user-service `REFRESH_TOKEN_TTL_S`, 30
 * days). Past it the session has surely ended, so an offline open would outlive it.
 */
export const OFFLINE_RESUME_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

const SavedMe = z.object({ user: Me, confirmedAt: z.number() });
const SavedUsers = z.record(z.string(), PublicUser);

/**
 * Whether an error means the server could not be reached (no network, nginx up but the service
 * down or restarting), as opposed to an answer (a 401 is an answer: the session is over).
 * @param err what a call threw
 * @returns true for `network_error` and 502/503/504 or `unavailable`
 */
export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  return (
    err.code === 'network_error' ||
    err.code === 'unavailable' ||
    [502, 503, 504].includes(err.status)
  );
}

/** Offline copies in the local store. */
export const offlineCache = {
  /** @param store local store @param user me, as the server just confirmed it */
  async confirmed(store: ProtocolStore, user: Me): Promise<void> {
    await store.setMeta(META_ME, { user, confirmedAt: Date.now() });
  },
  /**
   * @param store local store
   * @param userId the account expected in it
   * @param now the current time (ms)
   * @returns me, when the server confirmed this session for that account recently enough
   */
  async me(store: ProtocolStore, userId: string, now = Date.now()): Promise<Me | undefined> {
    const saved = SavedMe.safeParse(await store.getMeta(META_ME));
    if (!saved.success || saved.data.user.id !== userId) return undefined;
    if (
      now - saved.data.confirmedAt > OFFLINE_RESUME_MAX_AGE_MS ||
      saved.data.confirmedAt > now + 60_000
    )
      return undefined;
    return saved.data.user;
  },
  /** @param store local store @param list my conversations as the server listed them */
  async saveConversations(store: ProtocolStore, list: Conversation[]): Promise<void> {
    await store.setMeta(META_CONVERSATIONS, list);
  },
  /** @param store local store @returns the last list the server gave (empty if none) */
  async conversations(store: ProtocolStore): Promise<Conversation[]> {
    const saved = z.array(ConversationSchema).safeParse(await store.getMeta(META_CONVERSATIONS));
    return saved.success
      ? saved.data.map((c) => ({ ...c, memberIds: c.members.map((m) => m.userId) }))
      : [];
  },
  /**
   * Keeps the saved list in step with a change made here (accepted, declined, created).
   * @param store local store
   * @param id the conversation
   * @param next its new state, `null` to drop it
   */
  async changeConversation(
    store: ProtocolStore,
    id: string,
    next: (c: Conversation | undefined) => Conversation | null,
  ): Promise<void> {
    const list = await offlineCache.conversations(store);
    const changed = next(list.find((c) => c.id === id));
    const rest = list.filter((c) => c.id !== id);
    await store.setMeta(META_CONVERSATIONS, changed ? [changed, ...rest] : rest);
  },
  /** @param store local store @param user a directory entry the server gave */
  async saveUser(store: ProtocolStore, user: PublicUser): Promise<void> {
    const saved = SavedUsers.safeParse(await store.getMeta(META_USERS));
    const users = saved.success ? saved.data : {};
    const known = users[user.id];
    if (known && known.username === user.username && known.displayName === user.displayName) return;
    await store.setMeta(META_USERS, { ...users, [user.id]: user });
  },
  /** @param store local store @param userId whom @returns the last directory entry the server gave */
  async user(store: ProtocolStore, userId: string): Promise<PublicUser | undefined> {
    const saved = SavedUsers.safeParse(await store.getMeta(META_USERS));
    return saved.success ? saved.data[userId] : undefined;
  },
};

/**
 * Asks the server and keeps a copy of the answer; when offline or the server cannot be reached,
 * answers with the copy instead (and throws the server's error when there is none).
 * @param offline an offline session: do not ask the server
 * @param fetch asks the server
 * @param save keeps the answer (failures are ignored)
 * @param cached the copy
 * @returns the answer or the copy
 */
export async function cachedWhenUnreachable<T>(
  offline: boolean,
  fetch: () => Promise<T>,
  save: (value: T) => Promise<void>,
  cached: () => Promise<T | undefined>,
): Promise<T> {
  if (!offline) {
    try {
      const value = await fetch();
      await save(value).catch(() => undefined);
      return value;
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      const copy = await cached();
      if (copy === undefined) throw err;
      return copy;
    }
  }
  const copy = await cached();
  if (copy === undefined) throw new ApiError(0, 'network_error', 'offline: not on this device');
  return copy;
}
