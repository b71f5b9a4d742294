/**
 * What a new message should do to get noticed (a system notification, a sound) and what the
 * tab shows for unread messages: pure decisions, no browser API (use-notifications.ts applies
 * them). Tested in notifications.test.ts.
 */
import type { MessageView } from './chat-api.js';
import { mentionsMe, shownUnread } from './mentions-state.js';
import type { AppState } from './reducer.js';
import { conversationTitle } from './reducer.js';

/** This browser's notification settings (kept in localStorage; nothing secret). */
export interface NotificationPrefs {
  /** System notifications, when the browser allows them (default on: the permission decides). */
  enabled: boolean;
  /** Sender and text in notifications (default off: a locked or shared screen shows nothing). */
  previews: boolean;
  /** A short sound for a new message (default on; never for muted conversations). */
  sound: boolean;
  /** "Not now" was chosen on the chats screen's prompt: it does not ask again. */
  promptDismissed: boolean;
}

/** Defaults of {@link NotificationPrefs}. */
export const DEFAULT_PREFS: NotificationPrefs = {
  enabled: true,
  previews: false,
  sound: true,
  promptDismissed: false,
};

/** The browser's notification permission, or `unsupported` (no Notification API). */
export type NotifyPermission = 'granted' | 'denied' | 'default' | 'unsupported';

/** A system notification to show. */
export interface NotificationSpec {
  /** One per conversation: a newer one replaces the older. */
  tag: string;
  title: string;
  body: string;
  conversationId: string;
}

/** What a message does: nothing, a notification and/or a sound, or wait (conversation unknown yet). */
export type NotifyDecision =
  { kind: 'wait' } | { kind: 'act'; notification: NotificationSpec | null; sound: boolean };

/** Everything {@link decideNotification} looks at. */
export interface NotifyInput {
  message: MessageView;
  /** The SDK's "a message arrived" (not an edit, reaction, delete or a send's progress). */
  arrival: boolean;
  state: AppState;
  /**
   * Where the person is: `focused` (this tab, in use), `visible` (shown, but another window has
   * the focus) or `hidden` (another tab, minimised).
   */
  presence: 'focused' | 'visible' | 'hidden';
  permission: NotifyPermission;
  prefs: NotificationPrefs;
  /** i18next's `t` of the `notify` namespace. */
  t: (key: string, vars?: Record<string, unknown>) => string;
}

const NOTHING: NotifyDecision = { kind: 'act', notification: null, sound: false };
/** The longest message excerpt a notification shows. */
const MAX_BODY = 180;

/** The tag of a conversation's notifications. */
export function notificationTag(conversationId: string): string {
  return `conversation:${conversationId}`;
}

/**
 * Whether and how a message gets noticed. Never for my own messages (other devices of mine),
 * control messages (group events), changes (edits, reactions, deletes), messages already read,
 * or the note-to-self chat; in a muted conversation only a mention of me notifies, and never
 * with a sound. A message request notifies without any content. With the chat open in the
 * focused tab nothing happens (the person sees it); with the tab in use but another chat open,
 * or the chat open on a visible but unfocused window (it is marked read there), only the sound
 * plays.
 * @param input the message, the app state and this browser's settings
 * @returns `wait` while the conversation is not loaded yet, else what to do
 */
export function decideNotification(input: NotifyInput): NotifyDecision {
  const { message: m, state, prefs, t } = input;
  if (!input.arrival || m.direction !== 'in' || m.senderUserId === state.me?.id) return NOTHING;
  if (m.kind === 'event' || m.status !== 'received' || m.deletedAt) return NOTHING;
  const c = state.conversations[m.conversationId];
  if (!c) return { kind: 'wait' };
  if (c.kind === 'self' || c.left) return NOTHING;
  const muted = state.muted[c.id] === true;
  if (muted && !mentionsMe(m, state.me?.id)) return NOTHING;
  const openHere = state.view.name === 'chats' && state.view.conversationId === c.id;
  if (openHere && input.presence === 'focused') return NOTHING;
  const sound = prefs.sound && !muted;
  // The open chat on a visible screen shows the message and marks it read (ReadMarker).
  const seen = input.presence === 'focused' || (openHere && input.presence === 'visible');
  if (seen) return { kind: 'act', notification: null, sound };
  if (input.permission !== 'granted' || !prefs.enabled)
    return { kind: 'act', notification: null, sound };
  const tag = notificationTag(c.id);
  const plain = { tag, conversationId: c.id, title: t('appName') };
  if (c.myState === 'request')
    return { kind: 'act', notification: { ...plain, body: t('newRequest') }, sound };
  if (!prefs.previews)
    return { kind: 'act', notification: { ...plain, body: t('newMessage') }, sound };
  const sender = state.users[m.senderUserId]?.displayName ?? t('someone');
  const title =
    c.kind === 'group'
      ? t('titleInGroup', { sender, conversation: conversationTitle(state, c) })
      : sender;
  return {
    kind: 'act',
    notification: { tag, conversationId: c.id, title, body: previewText(m, t) },
    sound,
  };
}

/**
 * The words a preview shows for a message: its text, an attachment's kind and name, or the
 * fallback of a kind this version does not know.
 * @param m the message
 * @param t the `notify` namespace's `t`
 * @returns at most {@link MAX_BODY} characters
 */
export function previewText(m: MessageView, t: NotifyInput['t']): string {
  let text: string;
  if (m.kind === 'attachment') {
    const what = m.attachment?.contentType.startsWith('image/') ? t('photo') : t('file');
    text = m.text?.trim() || (m.attachment?.fileName ? `${what}: ${m.attachment.fileName}` : what);
  } else if (m.kind === 'unsupported') {
    text = m.newer?.fallback?.trim() || t('newMessage');
  } else {
    text = m.text?.trim() || t('newMessage');
  }
  return text.length > MAX_BODY ? `${text.slice(0, MAX_BODY - 1)}…` : text;
}

/**
 * Incoming messages of a conversation still unread, as its badge counts them; for the chat on
 * screen also those loaded and not read yet (a hidden tab does not mark them read).
 * @param state app state
 * @param conversationId the conversation
 * @returns how many
 */
export function unreadIn(state: AppState, conversationId: string): number {
  const counted = shownUnread(state, conversationId);
  const open = state.view.name === 'chats' && state.view.conversationId === conversationId;
  if (!open) return counted;
  const muted = state.muted[conversationId] === true;
  const waiting = (state.messages[conversationId] ?? []).filter(
    (m) =>
      m.direction === 'in' && m.status === 'received' && (!muted || mentionsMe(m, state.me?.id)),
  ).length;
  return Math.max(counted, waiting);
}

/**
 * The unread total the tab title and the favicon show (muted conversations count mentions of
 * me only, like the navigation badge).
 * @param state app state
 * @returns the total
 */
export function unreadTotal(state: AppState): number {
  const ids = new Set(Object.keys(state.unread));
  if (state.view.name === 'chats' && state.view.conversationId) ids.add(state.view.conversationId);
  let sum = 0;
  for (const id of ids) sum += unreadIn(state, id);
  return sum;
}

/** A leading "(3) " the title gets for unread messages. */
const COUNT_PREFIX = /^\(\d+\+?\) /;

/**
 * The tab title with the unread count in front: "(3) CipherChat"; any earlier count is replaced.
 * @param count unread total
 * @param title the current title (with or without a count)
 * @returns the new title
 */
export function titleWithCount(count: number, title: string): string {
  const bare = title.replace(COUNT_PREFIX, '');
  return count > 0 ? `(${badgeLabel(count)}) ${bare}` : bare;
}

/**
 * What a badge shows for a count: the number, or "99+".
 * @param count a positive count
 * @returns the label
 */
export function badgeLabel(count: number): string {
  return count > 99 ? '99+' : String(count);
}

/**
 * Which conversations' notifications to close: those shown and now read.
 * @param state app state
 * @param shown conversation ids with a notification on screen
 * @returns the ones to close
 */
export function readConversations(state: AppState, shown: Iterable<string>): string[] {
  return [...shown].filter((id) => unreadIn(state, id) === 0);
}

/**
 * Whether a `postMessage` from the service worker asks to open a conversation (a click on one
 * of its notifications): `{type: 'openConversation', conversationId}`.
 * @param data the message's data
 * @returns the conversation id, or null
 */
export function openConversationRequest(data: unknown): string | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as { type?: unknown; conversationId?: unknown };
  return d.type === 'openConversation' &&
    typeof d.conversationId === 'string' &&
    d.conversationId.length > 0 &&
    d.conversationId.length <= 200
    ? d.conversationId
    : null;
}
