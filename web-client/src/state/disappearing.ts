import { DISAPPEAR_TIMERS_S } from '@cipherchat/client';
import { i18next } from '../i18n/index.js';
import type { ConversationView } from './chat-api.js';
import type { AppState } from './reducer.js';

/** The timers the settings control offers, in seconds (the SDK's list; off is separate). */
export const DISAPPEARING_OPTIONS: readonly number[] = DISAPPEAR_TIMERS_S;

const UNITS: ReadonlyArray<readonly [number, 'week' | 'day' | 'hour' | 'minute' | 'second']> = [
  [604_800, 'week'],
  [86_400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/** The largest unit that divides the timer, and how many of it. */
function inUnits(seconds: number) {
  const [size, unit] = UNITS.find(([s]) => seconds % s === 0 && seconds >= s) ?? [1, 'second'];
  return { n: seconds / size, unit };
}

/**
 * Words a disappearing timer for people ("5 minutes", "1 hour", "4 weeks"), in the UI language.
 * @param seconds the timer
 * @returns the label
 */
export function timerLabel(seconds: number): string {
  const { n, unit } = inUnits(seconds);
  return i18next.t(`chat:disappearing.unit.${unit}`, { count: n });
}

/**
 * A short label for the chat header ("5m", "1h", "1d", "4w").
 * @param seconds the timer
 * @returns the label
 */
export function timerShortLabel(seconds: number): string {
  const { n, unit } = inUnits(seconds);
  return i18next.t(`chat:disappearing.short.${unit}`, { n });
}

/**
 * Whether I may change a chat's disappearing timer: either member of a direct chat; in a group,
 * its owner and admins by my end-to-end view (the SDK enforces the same rule).
 * @param state app state (me)
 * @param c the conversation
 * @returns true when the control is enabled
 */
export function maySetDisappearing(state: AppState, c: ConversationView): boolean {
  if (c.left || c.pending || c.myState === 'request') return false;
  if (c.kind === 'direct') return true;
  if (c.kind !== 'group') return false;
  const role = c.members.find((m) => m.userId === state.me?.id)?.role;
  return role === 'owner' || role === 'admin';
}

/**
 * Drops expired messages from the loaded history and the chat list's last line (the SDK already
 * deleted them from the store).
 * @param state app state
 * @param conversationId their conversation
 * @param messageIds the expired messages
 * @returns the new state
 */
export function withoutExpired(
  state: AppState,
  conversationId: string,
  messageIds: string[],
): AppState {
  const gone = new Set(messageIds);
  const list = state.messages[conversationId];
  const kept = list?.filter((m) => !gone.has(m.id));
  const last = state.lastMessage[conversationId];
  const lastGone = !!last && gone.has(last.id);
  return {
    ...state,
    messages: kept ? { ...state.messages, [conversationId]: kept } : state.messages,
    lastMessage: lastGone
      ? { ...state.lastMessage, [conversationId]: kept?.[kept.length - 1] }
      : state.lastMessage,
  };
}
