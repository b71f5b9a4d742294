import { useEffect, useState } from 'react';
import { useApp } from '../state/store.js';

/**
 * Marks what the reader can see as read: while a conversation is open and the tab is visible,
 * every incoming message still "received" gets an (encrypted) read receipt. Not in a message
 * request: its messages stay unread until I accept, then they are marked (and the receipt goes).
 * @param props.conversationId the open conversation
 */
export function ReadMarker({ conversationId }: { conversationId: string }) {
  const { state, dispatch, api } = useApp();
  const [visible, setVisible] = useState(() => !document.hidden);
  useEffect(() => {
    const onChange = () => setVisible(!document.hidden);
    document.addEventListener('visibilitychange', onChange);
    return () => document.removeEventListener('visibilitychange', onChange);
  }, []);
  const unreadKey = (state.messages[conversationId] ?? [])
    .filter((m) => m.direction === 'in' && m.status === 'received')
    .map((m) => m.id)
    .join(',');
  const counted = state.unread[conversationId] ?? 0;
  const request = state.conversations[conversationId]?.myState === 'request';
  useEffect(() => {
    if (!visible || request) return;
    const ids = unreadKey ? unreadKey.split(',') : [];
    if (ids.length === 0 && counted === 0) return;
    dispatch({ type: 'markedRead', conversationId, messageIds: ids });
    // What is loaded gets its receipts at once; unread messages older than the loaded pages
    // (counted by the SDK) are read too: the reader opened the conversation.
    const rest = counted > ids.length;
    const marked = ids.length ? api.markRead(conversationId, ids) : Promise.resolve();
    void marked.then(() => (rest ? api.markAllRead(conversationId) : undefined)).catch(() => undefined);
  }, [visible, request, unreadKey, counted, conversationId, api, dispatch]);
  return null;
}
