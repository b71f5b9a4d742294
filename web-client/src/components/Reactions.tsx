import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import type { MessageView } from '../state/index.js';
import { reactionChips } from '../state/message-actions.js';
import { useApp } from '../state/store.js';
import { useMessageActions } from '../state/use-message-actions.js';

/**
 * A message's reactions as chips with counts. Hovering or focusing a chip shows who reacted;
 * clicking my own takes it back, clicking another one makes it mine.
 * @param props.message the message
 */
export function Reactions({ message }: { message: MessageView }) {
  const { state } = useApp();
  const { t } = useTranslation('chat');
  const handlers = useMessageActions();
  const [error, setError] = useState<string | null>(null);
  const myId = state.me?.id;
  const chips = reactionChips(message, myId);
  if (chips.length === 0 || message.deletedAt !== undefined) return null;
  const name = (id: string) =>
    id === myId ? t('who.you') : (state.users[id]?.displayName ?? t('who.someone'));
  const click = async (emoji: string, mine: boolean) => {
    setError(null);
    try {
      await handlers.react(message, mine ? null : emoji);
    } catch (e) {
      setError(describeError(e));
    }
  };
  return (
    <div className="reactions" data-testid="reactions">
      {chips.map((c) => {
        const who = c.userIds.map(name).join(', ');
        return (
          <button
            key={c.emoji}
            type="button"
            className={`reaction-chip${c.mine ? ' reaction-mine' : ''}`}
            aria-pressed={c.mine}
            aria-label={t(c.mine ? 'reactions.labelMine' : 'reactions.label', {
              emoji: c.emoji,
              count: c.count,
              who,
            })}
            title={who}
            onClick={() => void click(c.emoji, c.mine)}
          >
            <span aria-hidden="true">{c.emoji}</span>{' '}
            <span className="reaction-count">{c.count}</span>
            <span className="reaction-who" role="tooltip">
              {who}
            </span>
          </button>
        );
      })}
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
