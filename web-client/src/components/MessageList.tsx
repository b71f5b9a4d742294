import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError, describeGroupEvent } from '../state/index.js';
import { useApp } from '../state/store.js';
import { MessageBubble } from './MessageBubble.js';
import { RetryPlaceholders } from './RetryPlaceholders.js';
import { useJumpToMessage } from './useJumpToMessage.js';
import { useMessageWindow } from './useMessageWindow.js';

const NO_MESSAGES: never[] = [];

/**
 * The message history of one conversation with infinite scroll upwards over the local store:
 * a sentinel at the top loads the previous page when it scrolls into view (and a button does
 * the same for keyboard users). The list is virtualised (only rows near the viewport are in the
 * DOM, useMessageWindow.ts). The scroll position is kept while older messages are prepended,
 * and the view follows new messages only when the reader is already at the bottom.
 * @param props.conversationId the conversation
 */
export function MessageList({ conversationId }: { conversationId: string }) {
  const { state, actions } = useApp();
  const { t } = useTranslation('conversation');
  const loaded = state.messages[conversationId];
  const messages = loaded ?? NO_MESSAGES;
  const hasMore = state.hasMore[conversationId] ?? false;
  const isGroup = state.conversations[conversationId]?.kind === 'group';
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true);
  const view = useMessageWindow(messages, scroller, list, atBottom);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const loadOlder = async () => {
    if (loadingOlder || !hasMore) return;
    setLoadingOlder(true);
    setError(null);
    view.holdPosition();
    try {
      await actions.loadOlder(conversationId);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setLoadingOlder(false);
    }
  };
  const loadOlderRef = useRef(loadOlder);
  loadOlderRef.current = loadOlder;
  const missing = useJumpToMessage(conversationId, scroller, view.reveal);

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

  if (!loaded) {
    return (
      <div className="message-scroller" aria-busy="true">
        <p className="muted pad">{t('messages.loading')}</p>
      </div>
    );
  }
  return (
    <div
      className="message-scroller"
      ref={scroller}
      tabIndex={0}
      aria-label={t('messages.label')}
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
            {loadingOlder ? t('messages.loadingOlder') : t('messages.loadOlder')}
          </button>
        </div>
      )}
      {!hasMore && messages.length > 0 && (
        <p className="muted small history-top">{t('messages.historyStart')}</p>
      )}
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
      {missing && (
        <p className="notice small" role="status" data-testid="original-missing">
          {t('messages.originalMissing')}
        </p>
      )}
      {messages.length === 0 && (
        <p className="muted pad">{t('messages.empty')}</p>
      )}
      <ol
        ref={list}
        className="messages"
        aria-live="polite"
        aria-relevant="additions"
        style={{ paddingTop: view.padTop, paddingBottom: view.padBottom }}
      >
        {view.virtualizer.getVirtualItems().map(({ index }) => {
          const m = messages[index]!;
          return m.kind === 'event' && m.event ? (
            <li key={m.id} className="system-line" data-testid="group-event">
              {describeGroupEvent(state, m.event)}
            </li>
          ) : (
            <MessageBubble
              key={m.id}
              message={m}
              senderName={
                isGroup ? (state.users[m.senderUserId]?.displayName ?? t('messages.unknownSender')) : undefined
              }
            />
          );
        })}
      </ol>
      <RetryPlaceholders conversationId={conversationId} />
    </div>
  );
}
