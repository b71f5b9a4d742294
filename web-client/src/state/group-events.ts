import { i18next } from '../i18n/index.js';
import type { AppState } from './reducer.js';
import type { GroupEventView } from './chat-api.js';
import { timerLabel } from './disappearing.js';

const t = (key: string, options?: Record<string, unknown>) =>
  i18next.t(`groups:events.${key}`, options ?? {});

/**
 * A user's name as the object of a chat line: "you" for me, else the display name.
 * @param state app state
 * @param userId the user
 * @returns the name
 */
function nameOf(state: AppState, userId: string): string {
  if (userId === state.me?.id) return t('youObject');
  return state.users[userId]?.displayName ?? t('someone');
}

/**
 * Words a membership change for the chat ("Carol added Dan", "Dan left"), in the UI language
 * (namespace `groups`; a line whose actor is me has its own wording, `_you`, as languages
 * conjugate for it).
 * @param state app state (names)
 * @param e the change
 * @returns one sentence
 */
export function describeGroupEvent(state: AppState, e: GroupEventView): string {
  const me = e.actorUserId === state.me?.id;
  const ids = e.userIds ?? [];
  const vars = {
    context: me ? 'you' : undefined,
    actor: me ? '' : (state.users[e.actorUserId]?.displayName ?? t('someone')),
    names: ids.map((id) => nameOf(state, id)).join(', '),
  };
  switch (e.type) {
    case 'created':
      return e.title ? t('createdTitled', { ...vars, title: e.title }) : t('created', vars);
    case 'added':
      return t('added', vars);
    case 'removed':
      return t('removed', vars);
    case 'left':
      return t('left', vars);
    case 'renamed':
      return e.title ? t('renamed', { ...vars, title: e.title }) : t('nameRemoved', vars);
    case 'role':
      return t(e.role === 'admin' ? 'madeAdmin' : 'madeMember', { ...vars, count: ids.length });
    case 'timer':
      return e.timerS
        ? t('timerSet', { ...vars, timer: timerLabel(e.timerS) })
        : t('timerOff', vars);
  }
}

/**
 * The warning shown in a chat when the server lists people no member added.
 * @param state app state (names)
 * @param userIds the people
 * @returns the sentence
 */
export function membershipWarningText(state: AppState, userIds: string[]): string {
  const names = userIds.map((id) => state.users[id]?.displayName ?? t('someoneUnknown')).join(', ');
  return t('serverAdded', { names });
}
