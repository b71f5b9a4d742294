import { useCallback, useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { MessageView } from './chat-api.js';
import { currentPermission, getPrefs } from './notification-prefs.js';
import {
  decideNotification,
  notificationTag,
  readConversations,
  titleWithCount,
  unreadTotal,
} from './notifications.js';
import { useApp } from './store.js';
import {
  closeNotifications,
  onServiceWorkerOpen,
  playMessageSound,
  setFaviconCount,
  showNotification,
  tabPresence,
} from '../platform/notify.js';

/** A message whose conversation is not loaded yet (a first message, a request) waits this long. */
const PENDING_MS = 60_000;

/**
 * Gets new messages noticed while CipherChat is in the background: system notifications, the
 * sound, the unread count in the tab title and on the favicon; a click on a notification opens
 * its conversation, and a conversation's notifications close once it is read. Mounted once in
 * the signed-in shell. The decisions are {@link decideNotification} and {@link unreadTotal}.
 */
export function useNotifications(): void {
  const { state, api, actions } = useApp();
  const { t } = useTranslation('notify');
  const stateRef = useRef(state);
  stateRef.current = state;
  const pending = useRef<Array<{ message: MessageView; at: number }>>([]);
  const shown = useRef(new Set<string>());

  const open = useCallback(
    (conversationId: string) => {
      actions.navigate({ name: 'chats', conversationId });
      // Opening by view alone shows "Loading messages…" until its first page is loaded.
      if (!stateRef.current.messages[conversationId])
        void actions.loadOlder(conversationId).catch(() => undefined);
    },
    [actions],
  );

  /** Decides on one arrival: true when done, false when its conversation is not known yet. */
  const handle = useCallback(
    (message: MessageView): boolean => {
      const d = decideNotification({
        message,
        arrival: true,
        state: stateRef.current,
        presence: tabPresence(),
        permission: currentPermission(),
        prefs: getPrefs(),
        t,
      });
      if (d.kind === 'wait') return false;
      if (d.sound) playMessageSound();
      if (d.notification) {
        shown.current.add(d.notification.conversationId);
        showNotification(d.notification, open);
      }
      return true;
    },
    [t, open],
  );

  // New messages from the SDK (not edits, reactions or a send's progress).
  useEffect(
    () =>
      api.subscribe((e) => {
        if (e.type !== 'message' || !e.arrival) return;
        if (!handle(e.message)) pending.current.push({ message: e.message, at: Date.now() });
      }),
    [api, handle],
  );

  // A first message's conversation is loaded after it arrived: decide then.
  useEffect(() => {
    if (pending.current.length === 0) return;
    const now = Date.now();
    pending.current = pending.current.filter((p) => now - p.at < PENDING_MS && !handle(p.message));
  }, [state.conversations, handle]);

  // Read (here or on another device of mine): its notification goes.
  useEffect(() => {
    const read = readConversations(state, shown.current);
    for (const id of read) shown.current.delete(id);
    closeNotifications(read.map(notificationTag));
  }, [state]);

  // Unread count in the title and on the favicon; the title keeps it when a page changes it.
  const total = unreadTotal(state);
  useEffect(() => {
    const apply = () => {
      const next = titleWithCount(total, document.title);
      if (document.title !== next) document.title = next;
    };
    apply();
    void setFaviconCount(total).catch(() => undefined);
    const title = document.querySelector('title');
    if (!title || typeof MutationObserver === 'undefined') return;
    const watch = new MutationObserver(apply);
    watch.observe(title, { childList: true, characterData: true, subtree: true });
    return () => watch.disconnect();
  }, [total]);

  // Leaving the signed-in shell (log out): no count, no notification left behind.
  useEffect(
    () => () => {
      document.title = titleWithCount(0, document.title);
      void setFaviconCount(0).catch(() => undefined);
      closeNotifications([...shown.current].map(notificationTag));
      shown.current.clear();
    },
    [],
  );

  // A click on a service worker's notification: it focused this tab and asks to open the chat.
  useEffect(() => onServiceWorkerOpen(open), [open]);
}
