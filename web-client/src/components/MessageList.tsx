import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { describeError, describeGroupEvent } from '../state/index.js';
import { useApp } from '../state/store.js';
import { MessageBubble } from './MessageBubble.js';
import { useJumpToMessage } from './useJumpToMessage.js';

/**
 * The message history of one conversation with infinite scroll upwards over the local store:
 * a sentinel at the top loads the previous page when it scrolls into view (and a button does
 * the same for keyboard users). The scroll position is kept while older messages are prepended,
 * and the view follows new messages only when the reader is already at the bottom.
 * @param props.conversationId the conversation
 */
export function MessageList({ conversationId }: { conversationId: string }) {
  const { state, actions } = useApp();
  const messages = state.messages[conversationId];
  const hasMore = state.hasMore[conversationId] ?? false;
  const isGroup = state.conversations[conversationId]?.kind === 'group';
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const anchor = useRef<{ height: number; top: number } | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const loadOlder = async () => {
    const el = scroller.current;
    if (loadingOlder || !hasMore) return;
    setLoadingOlder(true);
    setError(null);
    if (el) anchor.current = { height: el.scrollHeight, top: el.scrollTop };
    try {
      await actions.loadOlder(conversationId);
    } catch (e) {
      anchor.current = null;
      setError(describeError(e));
    } finally {
      setLoadingOlder(false);
    }
  };
  const loadOlderRef = useRef(loadOlder);
  loadOlderRef.current = loadOlder;
  const missing = useJumpToMessage(conversationId, scroller);

  // Keep what the reader looked at in place after prepending; otherwise follow the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (anchor.current) {
      el.scrollTop = el.scrollHeight - anchor.current.height + anchor.current.top;
      anchor.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [messages]);

  useEffect(() => {
    const el = sentinel.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void loadOlderRef.current();
      },
      { root: scroller.current, rootMargin: '200px 0px 0px 0px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [conversationId, hasMore]);

  if (!messages) {
    return (
      <div className="message-scroller" aria-busy="true">
        <p className="muted pad">Loading messages…</p>
      </div>
    );
  }
  return (
    <div
      className="message-scroller"
      ref={scroller}
      tabIndex={0}
      aria-label="Messages"
      onScroll={(e) => {
        const el = e.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      {hasMore && (
        <div ref={sentinel} className="history-top">
          <button
            type="button"
            className="link small"
            onClick={() => void loadOlder()}
            disabled={loadingOlder}
          >
            {loadingOlder ? 'Loading…' : 'Load older messages'}
          </button>
        </div>
      )}
      {!hasMore && messages.length > 0 && (
        <p className="muted small history-top">Start of your history on this device</p>
      )}
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
      {missing && (
        <p className="notice small" role="status" data-testid="original-missing">
          The original message is not on this device.
        </p>
      )}
      {messages.length === 0 && (
        <p className="muted pad">No messages yet. Say hello — it is end-to-end encrypted.</p>
      )}
      <ol className="messages" aria-live="polite" aria-relevant="additions">
        {messages.map((m) =>
          m.kind === 'event' && m.event ? (
            <li key={m.id} className="system-line" data-testid="group-event">
              {describeGroupEvent(state, m.event)}
            </li>
          ) : (
            <MessageBubble
              key={m.id}
              message={m}
              senderName={
                isGroup ? (state.users[m.senderUserId]?.displayName ?? 'Unknown') : undefined
              }
            />
          ),
        )}
      </ol>
    </div>
  );
}
