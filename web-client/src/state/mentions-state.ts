import type { MessageView } from './chat-api.js';
import type { Action, AppState } from './reducer.js';

/** State changes of mute and mention counts (handled by {@link withMentions}). */
export type MentionAction =
  | { type: 'mutedLoaded'; conversationIds: string[] }
  | { type: 'mutedSet'; conversationId: string; on: boolean }
  /** Of a conversation's unread messages at load, how many mention me. */
  | { type: 'mentionSummary'; conversationId: string; count: number };

/**
 * Whether a message mentions a user.
 * @param m the message
 * @param userId who (me)
 * @returns true when `userId` is among its mentions
 */
export function mentionsMe(m: Pick<MessageView, 'mentions'>, userId: string | undefined): boolean {
  return userId !== undefined && (m.mentions?.includes(userId) ?? false);
}

/**
 * The unread count a conversation shows: all its unread messages, or in a muted conversation
 * only those that mention me.
 * @param state app state
 * @param conversationId the conversation
 * @returns the count for its badge
 */
export function shownUnread(state: AppState, conversationId: string): number {
  const all = state.unread[conversationId] ?? 0;
  return state.muted[conversationId]
    ? Math.min(all, state.mentionUnread[conversationId] ?? 0)
    : all;
}

/**
 * The total for the navigation badge (muted conversations count their mentions of me only).
 * @param state app state
 * @returns the sum of {@link shownUnread}
 */
export function totalShownUnread(state: AppState): number {
  return Object.keys(state.unread).reduce((sum, id) => sum + shownUnread(state, id), 0);
}

/**
 * Wraps the UI reducer with mute and mention counting: a message that the base reducer counted
 * as unread and that mentions me also counts as a mention; whatever clears a conversation's
 * unread count clears its mentions too.
 * @param base the UI reducer
 * @returns the wrapped reducer
 */
export function withMentions(base: (state: AppState, action: Action) => AppState) {
  return (state: AppState, action: Action | MentionAction): AppState => {
    switch (action.type) {
      case 'mutedLoaded':
        return {
          ...state,
          muted: Object.fromEntries(action.conversationIds.map((id) => [id, true as const])),
        };
      case 'mutedSet': {
        const { [action.conversationId]: _, ...rest } = state.muted;
        return { ...state, muted: action.on ? { ...rest, [action.conversationId]: true } : rest };
      }
      case 'mentionSummary':
        return {
          ...state,
          mentionUnread: { ...state.mentionUnread, [action.conversationId]: action.count },
        };
    }
    const next = base(state, action);
    let mentionUnread = next.mentionUnread;
    if (action.type === 'messageUpserted') {
      const id = action.message.conversationId;
      const counted = (next.unread[id] ?? 0) > (state.unread[id] ?? 0);
      if (counted && mentionsMe(action.message, next.me?.id)) {
        mentionUnread = { ...mentionUnread, [id]: (mentionUnread[id] ?? 0) + 1 };
      }
    }
    for (const [id, n] of Object.entries(mentionUnread)) {
      if (n > 0 && (next.unread[id] ?? 0) === 0) mentionUnread = { ...mentionUnread, [id]: 0 };
    }
    return mentionUnread === next.mentionUnread ? next : { ...next, mentionUnread };
  };
}
