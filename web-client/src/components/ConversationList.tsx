import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { i18next } from '../i18n/index.js';
import { pathFor } from '../routing/routes.js';
import { conversationTitle, directPeer, orderedConversations } from '../state/index.js';
import type { ConversationView, MessageView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Avatar } from './Avatar.js';
import { MessageSearch } from './MessageSearch.js';
import { PresenceDot } from './PresenceDot.js';
import { VerifiedMark } from './VerifiedMark.js';
import { shownUnread } from '../state/mentions-state.js';

/** One-line preview of a message (decrypted locally; never sent anywhere). */
export function previewOf(m: MessageView | undefined, myId: string | undefined): string {
  const t = i18next.getFixedT(null, 'conversation');
  if (!m) return t('preview.none');
  const prefix = m.senderUserId === myId ? t('preview.you') : '';
  if (m.kind === 'event')
    return m.event?.type === 'timer' ? t('preview.timer') : t('preview.group');
  if (m.kind === 'attachment')
    return `${prefix}${t('preview.attachment', { name: m.attachment?.fileName ?? t('preview.file') })}`;
  return `${prefix}${m.text ?? ''}`;
}

/**
 * The conversation list: title, presence, verified mark, last message preview, unread count.
 * @param props.selectedId the open conversation
 */
export function ConversationList({ selectedId }: { selectedId?: string }) {
  const { state, actions } = useApp();
  const list = orderedConversations(state);
  const requests = orderedConversations(state, 'request');
  const { t } = useTranslation('conversation');
  return (
    <nav className="conversation-list" aria-label={t('list.label')}>
      <div className="list-header">
        <h2>{t('list.title')}</h2>
        <div className="actions">
          <button
            type="button"
            className="secondary small"
            onClick={() => actions.navigate({ name: 'people' })}
          >
            {t('list.newChat')}
          </button>
          <button
            type="button"
            className="secondary small"
            onClick={() => actions.navigate({ name: 'newGroup' })}
          >
            {t('list.newGroup')}
          </button>
        </div>
      </div>
      <MessageSearch />
      {list.length === 0 && requests.length === 0 && (
        <p className="muted pad">{t('list.empty')}</p>
      )}
      <ConversationItems list={list} selectedId={selectedId} />
      {requests.length > 0 && (
        <section aria-labelledby="requests-title" className="requests">
          <h3 id="requests-title" className="list-subheader">
            {t('list.requests', { n: requests.length })}
          </h3>
          <ConversationItems list={requests} selectedId={selectedId} />
        </section>
      )}
    </nav>
  );
}

function ConversationItems({
  list,
  selectedId,
}: {
  list: ConversationView[];
  selectedId: string | undefined;
}) {
  const { state } = useApp();
  const { t } = useTranslation('conversation');
  return (
    <ul>
      {list.map((c) => {
        const peer = directPeer(state, c);
        const unread = shownUnread(state, c.id);
        const title = conversationTitle(state, c);
        return (
          <li key={c.id}>
            <Link
              to={pathFor({ name: 'chats', conversationId: c.id })}
              className="conversation-item"
              aria-current={c.id === selectedId ? 'true' : undefined}
              aria-label={unread ? t('list.itemUnread', { title, n: unread }) : title}
            >
              <span className="conversation-top">
                <Avatar userId={peer} name={title} />
                {peer && <PresenceDot userId={peer} />}
                <span className="conversation-title">{title}</span>
                {peer && state.verified[peer] && <VerifiedMark />}
                {peer && state.identityChanged[peer] && (
                  <span className="warn-chip">{t('list.safetyChanged')}</span>
                )}
                {state.muted[c.id] && (
                  <span className="muted-mark" title={t('list.muted')} data-testid="muted-mark">
                    {t('list.muted')}
                  </span>
                )}
                {unread > 0 && (
                  <span className="badge" data-testid="unread-count">
                    {unread}
                  </span>
                )}
              </span>
              <span className="conversation-preview" data-testid="last-message">
                {previewOf(state.lastMessage[c.id], state.me?.id)}
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
