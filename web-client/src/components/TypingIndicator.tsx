import { useApp } from '../state/store.js';

/**
 * "Bob is typing…" for a conversation (a polite live region, so screen readers hear it once).
 * @param props.conversationId the conversation
 */
export function TypingIndicator({ conversationId }: { conversationId: string }) {
  const { state } = useApp();
  const who = Object.keys(state.typing[conversationId] ?? {}).map(
    (id) => state.users[id]?.displayName ?? 'Someone',
  );
  const text =
    who.length === 0
      ? ''
      : who.length === 1
        ? `${who[0]} is typing…`
        : `${who.join(', ')} are typing…`;
  return (
    <div className="typing" role="status" aria-live="polite" data-testid="typing-indicator">
      {text}
    </div>
  );
}
