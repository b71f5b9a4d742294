import { Avatar } from '../components/Avatar.js';
import { Composer } from '../components/Composer.js';
import { DeviceAlerts } from '../components/DeviceAlerts.js';
import { BlockButton } from '../components/BlockButton.js';
import { ConversationList } from '../components/ConversationList.js';
import { IdentityNotice } from '../components/IdentityNotice.js';
import { MessageList } from '../components/MessageList.js';
import { MuteButton } from '../components/MuteButton.js';
import { ReplyProvider } from '../components/reply-context.js';
import { PresenceDot } from '../components/PresenceDot.js';
import { ReadMarker } from '../components/ReadMarker.js';
import { RequestPanel } from '../components/RequestPanel.js';
import { TypingIndicator } from '../components/TypingIndicator.js';
import { VerifiedMark } from '../components/VerifiedMark.js';
import { conversationTitle, directPeer, membershipWarningText } from '../state/index.js';
import { DisappearingBadge, DisappearingSetting } from '../components/DisappearingSetting.js';
import { useApp } from '../state/store.js';

/**
 * Conversation list and the open conversation side by side; on a phone only one of them shows
 * (CSS switches on `has-selection`).
 * @param props.conversationId the open conversation, if any
 */
export function ChatsPage({ conversationId }: { conversationId?: string }) {
  const { state } = useApp();
  const conversation = conversationId ? state.conversations[conversationId] : undefined;
  return (
    <div className={`chats ${conversation ? 'has-selection' : ''}`}>
      <div className="device-alerts">
        <DeviceAlerts />
      </div>
      <ConversationList selectedId={conversationId} />
      {conversation ? (
        <ConversationPane conversationId={conversation.id} />
      ) : (
        <section className="conversation-pane empty-pane" aria-label="No conversation selected">
          <p className="muted">Pick a conversation, or start one from People.</p>
        </section>
      )}
    </div>
  );
}

function ConversationPane({ conversationId }: { conversationId: string }) {
  const { state, actions } = useApp();
  const c = state.conversations[conversationId];
  if (!c) return null;
  const title = conversationTitle(state, c);
  const peer = directPeer(state, c);
  const others = c.members.map((m) => m.userId).filter((id) => id !== state.me?.id);
  const changed = others.filter((id) => state.identityChanged[id]);
  const blockedReason = c.left
    ? 'You are no longer in this conversation.'
    : changed.length
      ? 'Sending is paused until you review the changed safety number.'
      : c.kind === 'direct' && !peer
        ? 'This conversation has no other member.'
        : c.pending
          ? 'Waiting for the group’s details from a member.'
          : undefined;
  const warned = state.membershipWarnings[c.id];
  return (
    <section className="conversation-pane" aria-labelledby="conversation-title">
      <header className="pane-header">
        <button
          type="button"
          className="back-button"
          onClick={() => actions.navigate({ name: 'chats' })}
          aria-label="Back to conversations"
        >
          ←
        </button>
        <Avatar userId={peer} name={title} size="medium" />
        <div className="pane-title">
          <h2 id="conversation-title">
            {peer && <PresenceDot userId={peer} />} {title}
          </h2>
          {peer && state.verified[peer] && <VerifiedMark />}
          {c.kind === 'group' && <span className="muted small">{c.members.length} members</span>}
          <DisappearingBadge conversation={c} />
        </div>
        <div className="actions">
          <DisappearingSetting conversation={c} />
          {peer && (
            <button
              type="button"
              className="secondary small"
              onClick={() => actions.navigate({ name: 'safety', userId: peer })}
            >
              Safety number
            </button>
          )}
          <MuteButton conversationId={c.id} />
          {peer && c.myState !== 'request' && <BlockButton key={peer} userId={peer} name={title} />}
          {c.kind === 'group' && (
            <button
              type="button"
              className="secondary small"
              onClick={() => actions.navigate({ name: 'members', conversationId: c.id })}
            >
              Group settings
            </button>
          )}
        </div>
      </header>
      <ReadMarker conversationId={c.id} />
      <IdentityNotice userIds={changed} />
      {warned && warned.length > 0 && (
        <p className="notice notice-danger" role="alert" data-testid="membership-warning">
          {membershipWarningText(state, warned)}
        </p>
      )}
      <ReplyProvider key={c.id}>
        <MessageList conversationId={c.id} />
        <TypingIndicator conversationId={c.id} />
        {c.myState === 'request' ? (
          <RequestPanel conversation={c} />
        ) : (
          <Composer conversationId={c.id} blockedReason={blockedReason} />
        )}
      </ReplyProvider>
    </section>
  );
}
