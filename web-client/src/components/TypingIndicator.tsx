import { useTranslation } from 'react-i18next';
import { useApp } from '../state/store.js';

/**
 * "Bob is typing…" for a conversation (a polite live region, so screen readers hear it once).
 * @param props.conversationId the conversation
 */
export function TypingIndicator({ conversationId }: { conversationId: string }) {
  const { state } = useApp();
  const { t } = useTranslation('chat');
  const who = Object.keys(state.typing[conversationId] ?? {}).map(
    (id) => state.users[id]?.displayName ?? t('who.someone'),
  );
  const text = who.length === 0 ? '' : t('typing', { count: who.length, names: who.join(', ') });
  return (
    <div className="typing" role="status" aria-live="polite" data-testid="typing-indicator">
      {text}
    </div>
  );
}
