import type { ConversationView, MeView, MessageStatus, MessageView, UserView } from './chat-api.js';
import { i18next } from '../i18n/index.js';
import { withoutMessage } from './message-actions.js';
import { withoutExpired } from './disappearing.js';

/** Which screen is shown; each has its URL (routing/routes.ts), which RouteSync keeps in step. */
export type View =
  | { name: 'chats'; conversationId?: string }
  | { name: 'people' }
  | { name: 'newGroup' }
  | { name: 'members'; conversationId: string }
  | { name: 'safety'; userId: string }
  | { name: 'devices' }
  | { name: 'settings' };

/** Whole UI state. Plaintext lives here only in memory, never in localStorage. */
export interface AppState {
  phase: 'loading' | 'signedOut' | 'recoveryKey' | 'signedIn';
  me: MeView | null;
  /** Shown once right after sign-up, then dropped. */
  recoveryKey: string | null;
  online: boolean;
  view: View;
  conversations: Record<string, ConversationView>;
  /** Loaded window of each conversation's history, oldest first. */
  messages: Record<string, MessageView[]>;
  /** False once the start of a conversation's local history is loaded. */
  hasMore: Record<string, boolean>;
  lastMessage: Record<string, MessageView | undefined>;
  unread: Record<string, number>;
  /** Of the unread messages, those that mention me (a muted conversation shows only these; mentions-state.ts). */
  mentionUnread: Record<string, number>;
  /** Conversations muted in this browser. */
  muted: Record<string, true>;
  /** conversationId -> userId -> true while that user is typing. */
  typing: Record<string, Record<string, true>>;
  presence: Record<string, { online: boolean; lastSeenAt?: string }>;
  users: Record<string, UserView>;
  verified: Record<string, true>;
  /** Contacts whose identity key changed; sending to them is blocked until accepted. */
  identityChanged: Record<string, true>;
  /** conversationId -> users the server lists there whom no member added (sends fail closed). */
  membershipWarnings: Record<string, string[]>;
  /** Why this browser refused the server's key backup (shown as a banner), or null. */
  backupWarning: string | null;
  /** Group envelopes the server dropped for this browser because its mailbox was full (banner). */
  missedMessages: number;
}

/** Everything that changes {@link AppState}. */
export type Action =
  | { type: 'sessionStarted'; me: MeView }
  | { type: 'signedUp'; me: MeView; recoveryKey: string }
  | { type: 'recoveryKeyConfirmed' }
  /** A new recovery key from Settings: shown once like at sign-up, then back to Settings. */
  | { type: 'recoveryKeyRotated'; recoveryKey: string }
  | { type: 'backupRefused'; message: string }
  | { type: 'messagesMissed'; count: number }
  | { type: 'signedOut' }
  | { type: 'meUpdated'; me: MeView }
  | { type: 'navigate'; view: View }
  | { type: 'conversationsLoaded'; conversations: ConversationView[] }
  | { type: 'conversationUpserted'; conversation: ConversationView }
  /** Declined or blocked: it leaves the list (and the screen, when open). */
  | { type: 'conversationRemoved'; conversationId: string }
  | { type: 'summaryLoaded'; conversationId: string; last: MessageView | undefined; unread: number }
  | {
      type: 'historyLoaded';
      conversationId: string;
      messages: MessageView[];
      older: boolean;
      hasMore: boolean;
    }
  | { type: 'messageUpserted'; message: MessageView }
  | {
      type: 'statusChanged';
      conversationId: string;
      messageIds: string[];
      status: MessageStatus;
      error?: string;
    }
  | { type: 'markedRead'; conversationId: string; messageIds: string[] }
  | { type: 'typing'; conversationId: string; userId: string; on: boolean }
  | { type: 'presence'; userId: string; online: boolean; lastSeenAt?: string }
  | { type: 'usersLoaded'; users: UserView[] }
  | { type: 'securityLoaded'; verified: Set<string>; identityChanged: Set<string> }
  | { type: 'verifiedSet'; userId: string; verified: boolean }
  | { type: 'identityChanged'; userId: string }
  | { type: 'identityAccepted'; userId: string }
  | { type: 'connection'; online: boolean }
  | { type: 'membershipWarning'; conversationId: string; userIds: string[] }
  | { type: 'messageRemoved'; conversationId: string; messageId: string }
  | { type: 'messagesExpired'; conversationId: string; messageIds: string[] };

/** State before anything is known. */
export const initialState: AppState = {
  phase: 'loading',
  me: null,
  recoveryKey: null,
  online: true,
  view: { name: 'chats' },
  conversations: {},
  messages: {},
  hasMore: {},
  lastMessage: {},
  unread: {},
  mentionUnread: {},
  muted: {},
  typing: {},
  presence: {},
  users: {},
  verified: {},
  identityChanged: {},
  membershipWarnings: {},
  backupWarning: null,
  missedMessages: 0,
};

/** Orders by sender clock, then id, so every device shows the same order. */
function byTime(a: MessageView, b: MessageView): number {
  return a.sentAt - b.sentAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Status only moves forward (a late "delivered" must not undo "read"). */
const statusRank: Record<MessageStatus, number> = {
  failed: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  read: 4,
  received: 1,
};

function nextStatus(current: MessageStatus, incoming: MessageStatus): MessageStatus {
  if (current === 'received' || incoming === 'received')
    return incoming === 'read' ? 'read' : current;
  if (incoming === 'failed' || incoming === 'sending')
    return current === 'sent' || current === 'delivered' || current === 'read' ? current : incoming;
  return statusRank[incoming] >= statusRank[current] ? incoming : current;
}

function toSet(s: Set<string>): Record<string, true> {
  return Object.fromEntries([...s].map((k) => [k, true as const]));
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _, ...rest } = record;
  return rest;
}

function isOpen(state: AppState, conversationId: string): boolean {
  return state.view.name === 'chats' && state.view.conversationId === conversationId;
}

/**
 * The UI's reducer (pure).
 * @param state current state
 * @param action what happened
 * @returns the next state
 */
export function reducer(state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'sessionStarted':
      return { ...initialState, phase: 'signedIn', me: action.me, online: state.online };
    case 'signedUp':
      return {
        ...initialState,
        phase: 'recoveryKey',
        me: action.me,
        recoveryKey: action.recoveryKey,
        online: state.online,
      };
    case 'recoveryKeyConfirmed':
      return { ...state, phase: 'signedIn', recoveryKey: null };
    case 'recoveryKeyRotated':
      return { ...state, phase: 'recoveryKey', recoveryKey: action.recoveryKey };
    case 'backupRefused':
      return { ...state, backupWarning: action.message };
    case 'messagesMissed':
      return { ...state, missedMessages: action.count === 0 ? 0 : state.missedMessages + action.count };
    case 'signedOut':
      return { ...initialState, phase: 'signedOut', online: state.online };
    case 'meUpdated':
      return { ...state, me: action.me };
    case 'navigate':
      return { ...state, view: action.view };
    case 'conversationsLoaded': {
      const conversations = Object.fromEntries(action.conversations.map((c) => [c.id, c]));
      // The chat on screen stays when the server stops listing it (I was removed or left): its
      // history and the "removed you" line remain readable; nothing can be sent there.
      const open = state.view.name === 'chats' ? state.view.conversationId : undefined;
      const gone = open ? state.conversations[open] : undefined;
      if (open && gone && !conversations[open]) conversations[open] = { ...gone, left: true };
      return { ...state, conversations };
    }
    case 'conversationUpserted':
      return {
        ...state,
        conversations: { ...state.conversations, [action.conversation.id]: action.conversation },
      };
    case 'conversationRemoved': {
      const id = action.conversationId;
      return {
        ...state,
        view: isOpen(state, id) ? { name: 'chats' } : state.view,
        conversations: without(state.conversations, id),
        messages: without(state.messages, id),
        lastMessage: without(state.lastMessage, id),
        unread: without(state.unread, id),
      };
    }
    case 'messagesExpired':
      return withoutExpired(state, action.conversationId, action.messageIds);
    case 'summaryLoaded':
      return {
        ...state,
        lastMessage: { ...state.lastMessage, [action.conversationId]: action.last },
        unread: { ...state.unread, [action.conversationId]: action.unread },
      };
    case 'historyLoaded': {
      const existing = state.messages[action.conversationId] ?? [];
      const ids = new Set(existing.map((m) => m.id));
      const fresh = action.messages.filter((m) => !ids.has(m.id));
      const merged = [...existing, ...fresh].sort(byTime);
      const hasMore =
        action.older || existing.length === 0
          ? action.hasMore
          : (state.hasMore[action.conversationId] ?? action.hasMore);
      return {
        ...state,
        messages: { ...state.messages, [action.conversationId]: merged },
        hasMore: { ...state.hasMore, [action.conversationId]: hasMore },
      };
    }
    case 'messageUpserted': {
      const m = action.message;
      const list = state.messages[m.conversationId];
      const prev = list?.find((x) => x.id === m.id);
      const merged = prev ? { ...m, status: nextStatus(prev.status, m.status) } : m;
      const nextList = list
        ? [...list.filter((x) => x.id !== m.id), merged].sort(byTime)
        : undefined;
      const last = state.lastMessage[m.conversationId];
      const newLast = !last || last.id === m.id || byTime(last, merged) < 0 ? merged : last;
      const countsAsUnread =
        !prev &&
        m.direction === 'in' &&
        m.status === 'received' &&
        !isOpen(state, m.conversationId);
      // A message from someone ends their "typing" dots.
      const typingHere = state.typing[m.conversationId];
      return {
        ...state,
        messages: nextList ? { ...state.messages, [m.conversationId]: nextList } : state.messages,
        lastMessage: { ...state.lastMessage, [m.conversationId]: newLast },
        unread: countsAsUnread
          ? { ...state.unread, [m.conversationId]: (state.unread[m.conversationId] ?? 0) + 1 }
          : state.unread,
        typing: typingHere?.[m.senderUserId]
          ? { ...state.typing, [m.conversationId]: without(typingHere, m.senderUserId) }
          : state.typing,
      };
    }
    case 'messageRemoved':
      return withoutMessage(state, action.conversationId, action.messageId);
    case 'statusChanged': {
      const ids = new Set(action.messageIds);
      const patch = (m: MessageView): MessageView =>
        ids.has(m.id)
          ? {
              ...m,
              status: nextStatus(m.status, action.status),
              error: action.status === 'failed' ? action.error : undefined,
            }
          : m;
      const list = state.messages[action.conversationId];
      const last = state.lastMessage[action.conversationId];
      return {
        ...state,
        messages: list
          ? { ...state.messages, [action.conversationId]: list.map(patch) }
          : state.messages,
        lastMessage: last
          ? { ...state.lastMessage, [action.conversationId]: patch(last) }
          : state.lastMessage,
      };
    }
    case 'markedRead': {
      const ids = new Set(action.messageIds);
      const list = state.messages[action.conversationId];
      return {
        ...state,
        messages: list
          ? {
              ...state.messages,
              [action.conversationId]: list.map((m) =>
                ids.has(m.id) && m.status === 'received' ? { ...m, status: 'read' } : m,
              ),
            }
          : state.messages,
        unread: { ...state.unread, [action.conversationId]: 0 },
      };
    }
    case 'typing': {
      const here = state.typing[action.conversationId] ?? {};
      const next = action.on
        ? { ...here, [action.userId]: true as const }
        : without(here, action.userId);
      return { ...state, typing: { ...state.typing, [action.conversationId]: next } };
    }
    case 'presence':
      return {
        ...state,
        presence: {
          ...state.presence,
          [action.userId]: { online: action.online, lastSeenAt: action.lastSeenAt },
        },
      };
    case 'usersLoaded':
      return {
        ...state,
        users: { ...state.users, ...Object.fromEntries(action.users.map((u) => [u.id, u])) },
      };
    case 'securityLoaded':
      return {
        ...state,
        verified: toSet(action.verified),
        identityChanged: toSet(action.identityChanged),
      };
    case 'verifiedSet':
      return {
        ...state,
        verified: action.verified
          ? { ...state.verified, [action.userId]: true }
          : without(state.verified, action.userId),
      };
    case 'identityChanged':
      // A new identity key is not the key that was verified: the mark goes until re-verified.
      return {
        ...state,
        identityChanged: { ...state.identityChanged, [action.userId]: true },
        verified: without(state.verified, action.userId),
      };
    case 'identityAccepted':
      return { ...state, identityChanged: without(state.identityChanged, action.userId) };
    case 'connection':
      return { ...state, online: action.online };
    case 'membershipWarning': {
      const known = state.membershipWarnings[action.conversationId] ?? [];
      return {
        ...state,
        membershipWarnings: {
          ...state.membershipWarnings,
          [action.conversationId]: [...new Set([...known, ...action.userIds])],
        },
      };
    }
  }
}

/**
 * Conversations ordered for the list: most recent activity first.
 * @param state app state
 * @param which accepted conversations (default), or message requests
 * @returns ordered conversations
 */
export function orderedConversations(
  state: AppState,
  which: 'accepted' | 'request' = 'accepted',
): ConversationView[] {
  const activity = (c: ConversationView) =>
    state.lastMessage[c.id]?.sentAt ?? Date.parse(c.createdAt) ?? 0;
  return Object.values(state.conversations)
    .filter((c) => (c.myState ?? 'accepted') === which)
    .sort((a, b) => activity(b) - activity(a));
}

/**
 * A conversation's title as I see it: the group title, or the other person's name.
 * @param state app state
 * @param c the conversation
 * @returns a display title
 */
export function conversationTitle(state: AppState, c: ConversationView): string {
  if (c.kind === 'group') return c.title ?? i18next.t('conversation:title.group');
  const other = c.members.find((m) => m.userId !== state.me?.id);
  if (!other) return i18next.t('conversation:title.self');
  return state.users[other.userId]?.displayName ?? i18next.t('conversation:title.unknown');
}

/**
 * The other person of a direct chat.
 * @param state app state
 * @param c the conversation
 * @returns their user id, or undefined for groups
 */
export function directPeer(state: AppState, c: ConversationView): string | undefined {
  if (c.kind !== 'direct') return undefined;
  return c.members.find((m) => m.userId !== state.me?.id)?.userId;
}
