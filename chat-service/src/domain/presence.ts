import type { PresenceEvent } from '@cipherchat/contracts';
import type { ChatDeps } from './deps.js';

// Presence is shared only between users who share a conversation in which BOTH are `accepted`
// and neither blocked the other (SafetyStore.presenceContacts); `lastSeenAt` is null for a user
// who turned last seen off. A stranger's request gives them nothing until it is accepted.

/**
 * Online state and last seen of some users, with last seen withheld for those who hide it.
 * @param deps presence, safety store
 * @param userIds users the caller may see
 * @returns one entry per user
 */
async function describeVisible(deps: ChatDeps, userIds: string[]): Promise<PresenceEvent[]> {
  if (userIds.length === 0) return [];
  const [described, hiding] = await Promise.all([
    deps.presence.describe(userIds),
    deps.safety.hidingLastSeen(deps.db, userIds),
  ]);
  const hidden = new Set(hiding);
  return described.map((d) => (hidden.has(d.userId) ? { ...d, lastSeenAt: null } : d));
}

/**
 * `presence:get`: online state of those users who share presence with the caller (others are
 * left out of the answer).
 * @param deps safety store, presence
 * @param me the caller
 * @param userIds the users asked about
 * @returns one entry per visible user
 */
export async function visiblePresence(
  deps: ChatDeps,
  me: string,
  userIds: readonly string[],
): Promise<PresenceEvent[]> {
  const asked = [...new Set(userIds)].filter((u) => u !== me);
  if (asked.length === 0) return [];
  return describeVisible(deps, await deps.safety.presenceContacts(deps.db, me, asked));
}

/**
 * Tells everyone who shares presence with the user that they came online or went offline.
 * @param deps safety store, notifier
 * @param userId the user
 * @param online the new state
 * @param lastSeenAt when they were last seen
 */
export async function announcePresence(
  deps: ChatDeps,
  userId: string,
  online: boolean,
  lastSeenAt: string,
): Promise<void> {
  const contacts = await deps.safety.presenceContacts(deps.db, userId);
  if (contacts.length === 0) return;
  const hides = (await deps.safety.hidingLastSeen(deps.db, [userId])).length > 0;
  deps.notifier.notifyUsers(contacts, 'presence', {
    userId,
    online,
    lastSeenAt: hides ? null : lastSeenAt,
  });
}

/**
 * Starts presence at once between the user and those of `others` who now share it with them
 * (after an accept or an unblock): each side gets the other's current presence.
 * @param deps safety store, presence, notifier
 * @param me the user
 * @param others candidates
 */
export async function sharePresenceNow(
  deps: ChatDeps,
  me: string,
  others: string[],
): Promise<void> {
  const visible = await deps.safety.presenceContacts(
    deps.db,
    me,
    others.filter((u) => u !== me),
  );
  if (visible.length === 0) return;
  const [mine] = await describeVisible(deps, [me]);
  if (mine) deps.notifier.notifyUsers(visible, 'presence', mine);
  for (const theirs of await describeVisible(deps, visible))
    deps.notifier.notifyUsers([me], 'presence', theirs);
}

/**
 * Stops presence at once between two users who shared it (after a block): each is shown the
 * other as offline with no last seen, and gets nothing more.
 * @param deps notifier
 * @param a one user
 * @param b the other
 */
export function endPresenceNow(deps: ChatDeps, a: string, b: string): void {
  deps.notifier.notifyUsers([a], 'presence', { userId: b, online: false, lastSeenAt: null });
  deps.notifier.notifyUsers([b], 'presence', { userId: a, online: false, lastSeenAt: null });
}
