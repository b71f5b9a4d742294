import { useMemo } from 'react';
import type { MessageView } from './chat-api.js';
import { useApp } from './store.js';

/** What the message menu, the reaction chips and the inline editor do (API call, then state). */
export interface MessageActionHandlers {
  /** Sets my reaction (null removes it). */
  react(m: MessageView, emoji: string | null): Promise<void>;
  /** Saves an edit of my message. */
  edit(m: MessageView, text: string): Promise<void>;
  /** Deletes my message for everyone (tombstone). */
  deleteForEveryone(m: MessageView): Promise<void>;
  /** Removes a message from this browser. */
  deleteForMe(m: MessageView): Promise<void>;
}

/**
 * The message actions, next to the store's: each calls the API and puts its answer into the state.
 * @returns the handlers
 */
export function useMessageActions(): MessageActionHandlers {
  const { api, dispatch } = useApp();
  return useMemo<MessageActionHandlers>(() => {
    const put = (message: MessageView) => dispatch({ type: 'messageUpserted', message });
    return {
      react: async (m, emoji) => put(await api.reactToMessage(m.id, emoji)),
      edit: async (m, text) => put(await api.editMessage(m.id, text)),
      deleteForEveryone: async (m) => put(await api.deleteForEveryone(m.id)),
      deleteForMe: async (m) => {
        await api.deleteForMe(m.id);
        dispatch({ type: 'messageRemoved', conversationId: m.conversationId, messageId: m.id });
      },
    };
  }, [api, dispatch]);
}
