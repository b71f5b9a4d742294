import { linkSegments } from '../state/link-text.js';
import { splitMentions } from '../state/mention-input.js';
import type { MessageView } from '../state/index.js';
import { useApp } from '../state/store.js';

/**
 * Plain text with its addresses as links (http, https, mailto only; opened in a new tab with no
 * opener or referrer; nothing is fetched for a preview). The title shows the real address.
 */
function Linked({ text }: { text: string }) {
  return linkSegments(text).map((s, i) =>
    s.href ? (
      <a key={i} href={s.href} title={s.href} target="_blank" rel="noopener noreferrer">
        {s.text}
      </a>
    ) : (
      s.text
    ),
  );
}

/**
 * A message's text with its mentions highlighted (a mention of me more strongly) and its
 * addresses as links.
 * @param props.message the message (its `text` and `mentions`)
 */
export function MessageText({ message }: { message: MessageView }) {
  const { state } = useApp();
  if (!message.text) return null;
  const parts = splitMentions(
    message.text,
    message.mentions,
    state.users,
    state.me?.id,
    state.me ?? undefined,
  );
  return (
    <p className="message-text">
      {parts.map((p, i) =>
        p.userId ? (
          <span
            key={i}
            className={`mention ${p.me ? 'mention-me' : ''}`}
            data-testid={p.me ? 'mention-me' : 'mention'}
          >
            {p.text}
          </span>
        ) : (
          <Linked key={i} text={p.text} />
        ),
      )}
    </p>
  );
}
