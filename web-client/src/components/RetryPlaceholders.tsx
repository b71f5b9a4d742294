import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { RetryPlaceholderView } from '../state/retries.js';
import { useApp } from '../state/store.js';
import '../styles/retry.css';

/**
 * The placeholders of one conversation, kept current: re-read whenever the SDK reports that one
 * appeared, changed or resolved.
 * @param conversationId the conversation
 * @returns its placeholders, oldest first
 */
export function useRetryPlaceholders(conversationId: string): RetryPlaceholderView[] {
  const { api } = useApp();
  const [list, setList] = useState<RetryPlaceholderView[]>(() =>
    api.retryPlaceholders(conversationId),
  );
  useEffect(() => {
    setList(api.retryPlaceholders(conversationId));
    return api.onRetryChanged(() => setList(api.retryPlaceholders(conversationId)));
  }, [api, conversationId]);
  return list;
}

/**
 * Messages of this conversation that this browser could not decrypt: "waiting for Dan's device to
 * re-send this message" until the message arrives by itself (it then shows in the history in its
 * place and the placeholder goes), or a reason in words when it cannot (docs/web-client.md).
 * @param props.conversationId the conversation
 */
export function RetryPlaceholders({ conversationId }: { conversationId: string }) {
  const { state } = useApp();
  const { t } = useTranslation('retry');
  const list = useRetryPlaceholders(conversationId);
  if (list.length === 0) return null;
  return (
    <ul className="retry-placeholders" aria-label={t('placeholder.label')}>
      {list.map((p) => {
        const name = state.users[p.senderUserId]?.displayName ?? t('placeholder.someone');
        const text =
          p.state === 'failed' && p.cause
            ? t(`placeholder.failed.${p.cause}`, { name })
            : t('placeholder.waiting', { name });
        return (
          <li
            key={p.messageId}
            className={`retry-placeholder ${p.state}`}
            data-testid="retry-placeholder"
            data-state={p.state}
            role={p.state === 'failed' ? 'note' : 'status'}
          >
            {text}
          </li>
        );
      })}
    </ul>
  );
}
