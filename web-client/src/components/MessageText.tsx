import { splitMentions } from '../state/mention-input.js';
import type { MessageView } from '../state/index.js';
import { useApp } from '../state/store.js';

/**
 * A message's text with its mentions highlighted (a mention of me more strongly).
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
          p.text
        ),
      )}
    </p>
  );
}
