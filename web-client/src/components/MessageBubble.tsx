import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import type { MessageStatus, MessageView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { groupReadState } from '../state/read-state.js';
import { AttachmentPreview } from './AttachmentPreview.js';
import { Avatar } from './Avatar.js';
import { MessageExtras } from './MessageExtras.js';
import { GroupReceipts } from './GroupReceipts.js';
import { MessageText } from './MessageText.js';
import { ReplyButton, ReplyQuote } from './ReplyQuote.js';
import { RelativeTime } from './RelativeTime.js';

/** Catalogue keys (namespace `conversation`) of the delivery states; a received one shows none. */
const statusKey: Record<MessageStatus, string | null> = {
  sending: 'status.sending',
  sent: 'status.sent',
  delivered: 'status.delivered',
  read: 'status.read',
  received: null,
  failed: 'status.failed',
};
const statusIcon: Record<MessageStatus, string> = {
  sending: '◷',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
  received: '',
  failed: '!',
};

/**
 * One message. Outgoing messages show their delivery state; a failed one says why and offers
 * a retry.
 * @param props.message the message
 * @param props.senderName shown above incoming messages in groups
 */
export function MessageBubble({
  message,
  senderName,
}: {
  message: MessageView;
  senderName?: string;
}) {
  const { actions, state } = useApp();
  const { t } = useTranslation('pwa');
  const { t: tc } = useTranslation('conversation');
  // A message queued while offline waits for the network (it goes out by itself).
  const waiting = message.direction === 'out' && message.status === 'sending' && !state.online;
  const groupRead = groupReadState(message, state.conversations[message.conversationId], state.me?.id);
  const [retryError, setRetryError] = useState<string | null>(null);
  const out = message.direction === 'out';
  const retry = async () => {
    setRetryError(null);
    try {
      await actions.retry(message);
    } catch (e) {
      setRetryError(describeError(e));
    }
  };
  return (
    <li
      className={`message ${out ? 'message-out' : 'message-in'}`}
      data-message-id={message.id}
      data-status={message.status}
    >
      <div className="bubble">
        {senderName && !out && <Avatar userId={message.senderUserId} name={senderName} />}
        {senderName && !out && <div className="sender">{senderName}</div>}
        <ReplyQuote message={message} />
        <MessageText message={message} />
        {message.kind === 'attachment' && message.attachment && <AttachmentPreview message={message} />}
        {message.newer && (
          <p className="message-newer" data-testid="message-newer">
            {message.newer.whole ? tc('newer.whole') : tc('newer.part')}
            {message.newer.fallback && <span className="fallback"> {message.newer.fallback}</span>}
          </p>
        )}
        <MessageExtras message={message} />
        <div className="meta">
          <ReplyButton message={message} />
          <RelativeTime at={message.sentAt} />
          {groupRead && <GroupReceipts state={groupRead} />}
          {out && !groupRead && (
            <span className={`status status-${message.status}`} data-testid="message-status">
              <span aria-hidden="true">{statusIcon[message.status]}</span>{' '}
              {waiting
                ? t('waitingForNetwork')
                : statusKey[message.status] && tc(statusKey[message.status]!)}
            </span>
          )}
        </div>
      </div>
      {out && message.status === 'failed' && (
        <div className="send-error" role="alert">
          <span>
            {message.error ? tc('notSentBecause', { reason: message.error }) : tc('status.failed')}
          </span>
          <button type="button" className="small" onClick={retry}>
            {tc('retry')}
          </button>
          {retryError && <span className="error">{retryError}</span>}
        </div>
      )}
    </li>
  );
}
