import type { AppState } from './reducer.js';
import type { GroupEventView } from './chat-api.js';
import { timerLabel } from './disappearing.js';

/**
 * A user's name as a chat line shows it: "you" for me, else the display name.
 * @param state app state
 * @param userId the user
 * @param start whether the name starts the sentence
 * @returns the name
 */
function nameOf(state: AppState, userId: string, start = false): string {
  if (userId === state.me?.id) return start ? 'You' : 'you';
  return state.users[userId]?.displayName ?? 'Someone';
}

/**
 * Words a membership change for the chat ("Carol added Dan", "Dan left").
 * @param state app state (names)
 * @param e the change
 * @returns one sentence
 */
export function describeGroupEvent(state: AppState, e: GroupEventView): string {
  const actor = nameOf(state, e.actorUserId, true);
  const names = (e.userIds ?? []).map((id) => nameOf(state, id)).join(', ');
  switch (e.type) {
    case 'created':
      return e.title ? `${actor} created the group “${e.title}”` : `${actor} created the group`;
    case 'added':
      return `${actor} added ${names}`;
    case 'removed':
      return `${actor} removed ${names}`;
    case 'left':
      return `${actor} left`;
    case 'renamed':
      return e.title
        ? `${actor} renamed the group to “${e.title}”`
        : `${actor} removed the group name`;
    case 'role':
      return e.role === 'admin'
        ? `${actor} made ${names} an admin`
        : `${actor} made ${names} a member`;
    case 'timer':
      return e.timerS
        ? `${actor} set disappearing messages to ${timerLabel(e.timerS)}`
        : `${actor} turned off disappearing messages`;
  }
}

/**
 * The warning shown in a chat when the server lists people no member added.
 * @param state app state (names)
 * @param userIds the people
 * @returns the sentence
 */
export function membershipWarningText(state: AppState, userIds: string[]): string {
  const names = userIds.map((id) => state.users[id]?.displayName ?? 'someone unknown').join(', ');
  return `The server lists people no member added: ${names}. Nothing is sent to them.`;
}
