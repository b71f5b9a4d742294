import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
} from 'react';
import type { Dispatch, MutableRefObject, ReactNode } from 'react';
import { i18next } from '../i18n/index.js';
import type {
  ChatApi,
  ChatEvent,
  ConversationView,
  FileTransfer,
  MessageView,
  SendExtras,
  View,
} from './index.js';
import { initialState, reducer } from './reducer.js';
import type { Action, AppState } from './reducer.js';
import { withMentions } from './mentions-state.js';

/** The UI reducer with mute and mention counting. */
const appReducer = withMentions(reducer);

/** How many messages one history page holds. */
export const PAGE_SIZE = 30;
/** Typing dots disappear after this long without a refresh (a lost "off" must not stick). */
const TYPING_TTL_MS = 6000;

/** Operations screens call; each updates the state and talks to the {@link ChatApi}. */
export interface AppActions {
  /** Shows a view: pushes its URL when a router is mounted (routing/RouteSync.tsx). */
  navigate(view: View): void;
  /** Loads everything a signed-in session shows (conversations, names, summaries, security). */
  loadSession(): Promise<void>;
  refreshConversations(): Promise<void>;
  /** Asks for the current presence of these users (best effort; unknown ones stay unknown). */
  loadPresence(userIds: string[]): Promise<void>;
  openConversation(conversationId: string): Promise<void>;
  /** Loads the first history page of a conversation unless it is loaded (deep links, Back). */
  ensureHistory(conversationId: string): Promise<void>;
  /** Loads the page before the oldest loaded message; false when history is exhausted. */
  loadOlder(conversationId: string): Promise<boolean>;
  sendText(conversationId: string, text: string, extra?: SendExtras): Promise<void>;
  sendFile(conversationId: string, file: File, extra?: SendExtras, transfer?: FileTransfer): Promise<void>;
  /** Mutes or unmutes a conversation in this browser (only mentions of me count as unread). */
  setMuted(conversationId: string, on: boolean): Promise<void>;
  retry(message: MessageView): Promise<void>;
  upsertConversation(c: ConversationView): Promise<void>;
  /** Logs out (see `ChatApi.logOut`; `keepDevice` keeps this browser as a device). */
  signOut(options?: { keepDevice?: boolean }): Promise<void>;
}

/** Moves to a view through the router (set by RouteSync while the signed-in shell shows). */
export type ViewNavigator = (view: View, options?: { replace?: boolean }) => void;

interface AppContextValue {
  state: AppState;
  dispatch: Dispatch<Action>;
  api: ChatApi;
  actions: AppActions;
  /** The router's navigator; without one (signed out, tests) views change in state only. */
  navigator: MutableRefObject<ViewNavigator | null>;
}

const AppContext = createContext<AppContextValue | null>(null);

/**
 * Reads the app context.
 * @returns state, dispatch, the API and the actions
 * @throws {Error} outside an {@link AppProvider}
 */
export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp must be used inside <AppProvider>');
  return ctx;
}

/**
 * Holds the app state, wires SDK events into it, and exposes the actions.
 * @param props.api the chat API (the SDK adapter, or a stub in tests)
 * @param props.initial optional initial state (tests)
 */
export function AppProvider({
  api,
  initial,
  children,
}: {
  api: ChatApi;
  initial?: AppState;
  children: ReactNode;
}) {
  const [state, dispatch] = useReducer(appReducer, initial ?? initialState);
  const stateRef = useRef(state);
  stateRef.current = state;
  const typingTimers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const navigator = useRef<ViewNavigator | null>(null);

  const ensureUsers = useCallback(
    async (userIds: string[]) => {
      const missing = [...new Set(userIds)].filter(
        (id) => !stateRef.current.users[id] && id !== stateRef.current.me?.id,
      );
      const users = await Promise.all(missing.map((id) => api.getUser(id).catch(() => null)));
      const found = users.filter((u) => u !== null);
      if (found.length) dispatch({ type: 'usersLoaded', users: found });
    },
    [api],
  );

  const loadSummary = useCallback(
    async (conversationId: string) => {
      // Counted by the SDK over its history index: exact at any history length.
      const { last, unread, unreadMentions } = await api.summary(conversationId);
      dispatch({ type: 'summaryLoaded', conversationId, last, unread });
      dispatch({ type: 'mentionSummary', conversationId, count: unreadMentions });
    },
    [api],
  );

  const loadPresence = useCallback(
    async (userIds: string[]) => {
      const ids = [...new Set(userIds)].filter((id) => id !== stateRef.current.me?.id);
      if (ids.length === 0) return;
      // Without a socket (or on a refused ask) presence simply stays as it was.
      const list = await api.presence(ids).catch(() => []);
      for (const p of list) {
        dispatch({
          type: 'presence',
          userId: p.userId,
          online: p.online,
          lastSeenAt: p.lastSeenAt,
        });
      }
    },
    [api],
  );

  const refreshConversations = useCallback(async () => {
    const list = await api.listConversations();
    dispatch({ type: 'conversationsLoaded', conversations: list });
    const memberIds = list.flatMap((c) => c.members.map((m) => m.userId));
    await Promise.all([ensureUsers(memberIds), loadPresence(memberIds)]);
    await Promise.all(list.map((c) => loadSummary(c.id).catch(() => undefined)));
  }, [api, ensureUsers, loadSummary, loadPresence]);

  const loadFirstPage = useCallback(
    async (conversationId: string) => {
      if (stateRef.current.messages[conversationId]) return;
      const page = await api.history(conversationId, { limit: PAGE_SIZE });
      dispatch({
        type: 'historyLoaded',
        conversationId,
        messages: page,
        older: false,
        hasMore: page.length === PAGE_SIZE,
      });
    },
    [api],
  );

  const actions = useMemo<AppActions>(
    () => ({
      navigate: (view) => {
        if (navigator.current) navigator.current(view);
        else dispatch({ type: 'navigate', view });
      },
      loadSession: async () => {
        const [verified, changed] = await Promise.all([
          api.verifiedUsers().catch(() => new Set<string>()),
          api.pendingIdentityChanges().catch(() => new Set<string>()),
        ]);
        dispatch({ type: 'securityLoaded', verified, identityChanged: changed });
        const muted = await api.mutedConversations().catch(() => []);
        dispatch({ type: 'mutedLoaded', conversationIds: muted });
        await refreshConversations();
      },
      refreshConversations,
      loadPresence,
      openConversation: async (conversationId) => {
        const view: View = { name: 'chats', conversationId };
        if (navigator.current) navigator.current(view);
        else dispatch({ type: 'navigate', view });
        await loadFirstPage(conversationId);
      },
      ensureHistory: (conversationId) => loadFirstPage(conversationId),
      loadOlder: async (conversationId) => {
        const loaded = stateRef.current.messages[conversationId] ?? [];
        if (stateRef.current.hasMore[conversationId] === false) return false;
        const oldest = loaded[0];
        const page = await api.history(conversationId, {
          before: oldest?.sentAt,
          beforeId: oldest?.id,
          limit: PAGE_SIZE,
        });
        const more = page.length === PAGE_SIZE;
        dispatch({
          type: 'historyLoaded',
          conversationId,
          messages: page,
          older: true,
          hasMore: more,
        });
        return more;
      },
      sendText: async (conversationId, text, extra) => {
        const msg = await api.sendText(conversationId, text, extra);
        dispatch({ type: 'messageUpserted', message: msg });
      },
      sendFile: async (conversationId, file, extra, transfer) => {
        const msg = await api.sendAttachment(conversationId, file, extra, transfer);
        dispatch({ type: 'messageUpserted', message: msg });
      },
      setMuted: async (conversationId, on) => {
        await api.setMuted(conversationId, on);
        dispatch({ type: 'mutedSet', conversationId, on });
      },
      retry: async (message) => {
        dispatch({
          type: 'statusChanged',
          conversationId: message.conversationId,
          messageIds: [message.id],
          status: 'sending',
        });
        try {
          const msg = await api.retry(message);
          // Retry keeps the message id: the answer updates it in place.
          dispatch({ type: 'messageUpserted', message: msg });
        } catch (err) {
          dispatch({
            type: 'statusChanged',
            conversationId: message.conversationId,
            messageIds: [message.id],
            status: 'failed',
            error: err instanceof Error ? err.message : i18next.t('conversation:status.failed'),
          });
          throw err;
        }
      },
      upsertConversation: async (c) => {
        dispatch({ type: 'conversationUpserted', conversation: c });
        await ensureUsers(c.members.map((m) => m.userId));
      },
      signOut: async (options) => {
        await api.logOut(options);
        // The next person to log in here starts at the chats, not at my last screen.
        navigator.current?.({ name: 'chats' }, { replace: true });
        dispatch({ type: 'signedOut' });
      },
    }),
    [api, refreshConversations, ensureUsers, loadPresence, loadFirstPage],
  );

  // SDK events -> state.
  useEffect(() => {
    const onEvent = (e: ChatEvent) => {
      switch (e.type) {
        case 'message': {
          dispatch({ type: 'messageUpserted', message: e.message });
          if (e.message.event)
            void ensureUsers([
              e.message.event.actorUserId,
              ...(e.message.event.userIds ?? []),
            ]).catch(() => undefined);
          if (!stateRef.current.conversations[e.message.conversationId])
            void refreshConversations().catch(() => undefined);
          break;
        }
        case 'messageRemoved':
          dispatch({ type: 'messageRemoved', conversationId: e.conversationId, messageId: e.messageId });
          break;
        case 'status':
          dispatch({
            type: 'statusChanged',
            conversationId: e.conversationId,
            messageIds: e.messageIds,
            status: e.status,
            error: e.error,
          });
          break;
        case 'typing': {
          if (e.userId === stateRef.current.me?.id) break;
          const key = `${e.conversationId}/${e.userId}`;
          clearTimeout(typingTimers.current.get(key));
          dispatch({
            type: 'typing',
            conversationId: e.conversationId,
            userId: e.userId,
            on: e.on,
          });
          if (e.on) {
            typingTimers.current.set(
              key,
              setTimeout(
                () =>
                  dispatch({
                    type: 'typing',
                    conversationId: e.conversationId,
                    userId: e.userId,
                    on: false,
                  }),
                TYPING_TTL_MS,
              ),
            );
          }
          break;
        }
        case 'presence':
          dispatch({
            type: 'presence',
            userId: e.userId,
            online: e.online,
            lastSeenAt: e.lastSeenAt,
          });
          break;
        case 'identityChanged':
          dispatch({ type: 'identityChanged', userId: e.userId });
          break;
        case 'connection':
          dispatch({ type: 'connection', online: e.online });
          // Presence changes pushed while the socket was down are lost: ask again.
          if (e.online && stateRef.current.phase === 'signedIn') {
            const ids = Object.values(stateRef.current.conversations).flatMap((c) =>
              c.members.map((m) => m.userId),
            );
            void loadPresence(ids);
          }
          break;
        case 'conversationsChanged':
          void refreshConversations().catch(() => undefined);
          break;
        case 'membershipWarning':
          void ensureUsers(e.userIds).catch(() => undefined);
          dispatch({
            type: 'membershipWarning',
            conversationId: e.conversationId,
            userIds: e.userIds,
          });
          break;
        case 'messagesExpired':
          dispatch({
            type: 'messagesExpired',
            conversationId: e.conversationId,
            messageIds: e.messageIds,
          });
          break;
        case 'sessionEnded':
          dispatch({ type: 'signedOut' });
          break;
        case 'backupRefused':
          dispatch({ type: 'backupRefused', message: e.message });
          break;
        case 'messagesMissed':
          dispatch({ type: 'messagesMissed', count: e.count });
          break;
      }
    };
    const unsubscribe = api.subscribe(onEvent);
    const timers = typingTimers.current;
    return () => {
      unsubscribe();
      for (const t of timers.values()) clearTimeout(t);
    };
  }, [api, refreshConversations, loadPresence, ensureUsers]);

  // Membership changes are not pushed to the UI (the SDK keeps conversation:updated to itself):
  // coming back to the tab refreshes the conversation list.
  useEffect(() => {
    const onVisible = () => {
      if (!document.hidden && stateRef.current.phase === 'signedIn') {
        void refreshConversations().catch(() => undefined);
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [refreshConversations]);

  // The browser going offline shows the banner at once (the socket may take a while to notice).
  // Its coming back online does not clear it: only the SDK's `connection` event does, once the
  // socket is really connected again (the adapter nudges the SDK on the browser's `online`).
  useEffect(() => {
    const off = () => dispatch({ type: 'connection', online: false });
    window.addEventListener('offline', off);
    return () => window.removeEventListener('offline', off);
  }, []);

  const value = useMemo(
    () => ({ state, dispatch, api, actions, navigator }),
    [state, api, actions],
  );
  return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}
