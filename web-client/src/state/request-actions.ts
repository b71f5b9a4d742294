import { useMemo } from 'react';
import type { ConversationView, ReportInput } from './chat-api.js';
import { useApp } from './store.js';

/** What the message-request panel and the block list do (each updates the state and the API). */
export interface RequestActions {
  /** Accepts a request: it moves into the chats and the composer appears. */
  accept(c: ConversationView): Promise<void>;
  /** Declines a request: it leaves the list (the sender is not told). */
  decline(conversationId: string): Promise<void>;
  /**
   * Blocks someone; a request from them is declined too, so it leaves the list.
   * @param userId whom
   * @param request the request they sent, if blocking from it
   */
  block(userId: string, request?: string): Promise<void>;
  /** Reports someone (blocking too when asked; a blocked request leaves the list). */
  report(input: ReportInput): Promise<void>;
}

/**
 * The request actions, next to the store's: they use the same API and reducer.
 * @returns the actions
 */
export function useRequestActions(): RequestActions {
  const { api, dispatch } = useApp();
  return useMemo<RequestActions>(() => {
    const leave = async (conversationId: string) => {
      // Blocked already: declining only tidies my list, so a failure here changes nothing.
      await api.declineRequest(conversationId).catch(() => undefined);
      dispatch({ type: 'conversationRemoved', conversationId });
    };
    return {
      accept: async (c) => {
        await api.acceptRequest(c.id);
        dispatch({ type: 'conversationUpserted', conversation: { ...c, myState: 'accepted' } });
      },
      decline: async (conversationId) => {
        await api.declineRequest(conversationId);
        dispatch({ type: 'conversationRemoved', conversationId });
      },
      block: async (userId, request) => {
        await api.block(userId);
        if (request) await leave(request);
      },
      report: async (input) => {
        await api.report(input);
        if (input.block && input.conversationId) await leave(input.conversationId);
      },
    };
  }, [api, dispatch]);
}
