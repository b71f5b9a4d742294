import { useTranslation } from 'react-i18next';
import { i18next } from '../i18n/index.js';
import type { MessageView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { useReply } from './reply-context.js';

/**
 * The name to show for a message's author.
 * @param state users and me
 * @param userId the author
 * @returns "You", their display name, or "Someone" (in the UI language)
 */
export function authorName(state: ReturnType<typeof useApp>['state'], userId: string): string {
  if (userId === state.me?.id) return i18next.t('chat:who.you');
  return state.users[userId]?.displayName ?? i18next.t('chat:who.someone');
}

/**
 * The quote at the top of a reply: author and excerpt of the original; activating it scrolls to
 * the original (loading older history as needed). When the original was deleted for everyone
 * (or expired), the SDK cleared the excerpt: it shows "Original message deleted".
 * @param props.message the reply
 */
export function ReplyQuote({ message }: { message: MessageView }) {
  const { state } = useApp();
  const { t } = useTranslation('chat');
  const { jumpTo } = useReply();
  const q = message.replyTo;
  if (!q) return null;
  const who = authorName(state, q.authorUserId);
  const original = state.messages[message.conversationId]?.find((m) => m.id === q.id);
  const gone = original?.deletedAt !== undefined || (q.excerpt === '' && !original);
  const excerpt = gone ? t('reply.originalDeleted') : q.excerpt || t('reply.message');
  return (
    <button
      type="button"
      className="reply-quote"
      data-testid="reply-quote"
      onClick={() => jumpTo(q.id)}
      aria-label={t('reply.label', { who, excerpt })}
    >
      <span className="reply-author">{who}</span>
      <span className={gone ? 'reply-excerpt reply-gone' : 'reply-excerpt'}>{excerpt}</span>
    </button>
  );
}

/**
 * The "Reply" action of a message (shown on hover and focus; reachable by keyboard).
 * @param props.message the message to reply to
 */
export function ReplyButton({ message }: { message: MessageView }) {
  const { t } = useTranslation('chat');
  const { setQuote } = useReply();
  if (message.kind !== 'text' && message.kind !== 'attachment') return null;
  return (
    <button
      type="button"
      className="small message-action"
      data-testid="reply-button"
      onClick={() => setQuote(message)}
    >
      {t('reply.button')}
    </button>
  );
}
