import type { MessageView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { useReply } from './reply-context.js';

/**
 * The name to show for a message's author.
 * @param state users and me
 * @param userId the author
 * @returns "You", their display name, or "Someone"
 */
export function authorName(state: ReturnType<typeof useApp>['state'], userId: string): string {
  if (userId === state.me?.id) return 'You';
  return state.users[userId]?.displayName ?? 'Someone';
}

/**
 * The quote at the top of a reply: author and excerpt of the original; activating it scrolls to
 * the original (loading older history as needed). When the original was deleted for everyone
 * (or expired), the SDK cleared the excerpt: it shows "Original message deleted".
 * @param props.message the reply
 */
export function ReplyQuote({ message }: { message: MessageView }) {
  const { state } = useApp();
  const { jumpTo } = useReply();
  const q = message.replyTo;
  if (!q) return null;
  const who = authorName(state, q.authorUserId);
  const original = state.messages[message.conversationId]?.find((m) => m.id === q.id);
  const gone = original?.deletedAt !== undefined || (q.excerpt === '' && !original);
  const excerpt = gone ? 'Original message deleted' : q.excerpt || 'Message';
  return (
    <button
      type="button"
      className="reply-quote"
      data-testid="reply-quote"
      onClick={() => jumpTo(q.id)}
      aria-label={`Reply to ${who}: ${excerpt}. Show the original message`}
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
  const { setQuote } = useReply();
  if (message.kind !== 'text' && message.kind !== 'attachment') return null;
  return (
    <button
      type="button"
      className="small message-action"
      data-testid="reply-button"
      onClick={() => setQuote(message)}
    >
      Reply
    </button>
  );
}
