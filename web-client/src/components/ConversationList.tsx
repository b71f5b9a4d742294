import { Link } from 'react-router';
import { pathFor } from '../routing/routes.js';
import { conversationTitle, directPeer, orderedConversations } from '../state/index.js';
import type { ConversationView, MessageView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Avatar } from './Avatar.js';
import { PresenceDot } from './PresenceDot.js';
import { VerifiedMark } from './VerifiedMark.js';
import { shownUnread } from '../state/mentions-state.js';

/** One-line preview of a message (decrypted locally; never sent anywhere). */
export function previewOf(m: MessageView | undefined, myId: string | undefined): string {
  if (!m) return 'No messages yet';
  const prefix = m.senderUserId === myId ? 'You: ' : '';
  if (m.kind === 'event')
    return m.event?.type === 'timer' ? 'Disappearing messages changed' : 'Group updated';
  if (m.kind === 'attachment') return `${prefix}Attachment: ${m.attachment?.fileName ?? 'file'}`;
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
  return (
    <nav className="conversation-list" aria-label="Conversations">
      <div className="list-header">
        <h2>Chats</h2>
        <div className="actions">
          <button
            type="button"
            className="secondary small"
            onClick={() => actions.navigate({ name: 'people' })}
          >
            New chat
          </button>
          <button
            type="button"
            className="secondary small"
            onClick={() => actions.navigate({ name: 'newGroup' })}
          >
            New group
          </button>
        </div>
      </div>
      {list.length === 0 && requests.length === 0 && (
        <p className="muted pad">No conversations yet. Find someone under People.</p>
      )}
      <ConversationItems list={list} selectedId={selectedId} />
      {requests.length > 0 && (
        <section aria-labelledby="requests-title" className="requests">
          <h3 id="requests-title" className="list-subheader">
            Message requests ({requests.length})
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
              aria-label={`${title}${unread ? `, ${unread} unread` : ''}`}
            >
              <span className="conversation-top">
                <Avatar userId={peer} name={title} />
                {peer && <PresenceDot userId={peer} />}
                <span className="conversation-title">{title}</span>
                {peer && state.verified[peer] && <VerifiedMark />}
                {peer && state.identityChanged[peer] && (
                  <span className="warn-chip">Safety number changed</span>
                )}
                {state.muted[c.id] && (
                  <span className="muted-mark" title="Muted" data-testid="muted-mark">
                    Muted
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
