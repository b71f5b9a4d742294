import { useTranslation } from 'react-i18next';
import { Avatar } from '../components/Avatar.js';
import { Composer } from '../components/Composer.js';
import { DeviceAlerts } from '../components/DeviceAlerts.js';
import { BlockButton } from '../components/BlockButton.js';
import { ConversationList } from '../components/ConversationList.js';
import { IdentityNotice } from '../components/IdentityNotice.js';
import { MessageList } from '../components/MessageList.js';
import { JumpFromUrl } from '../components/MessageSearch.js';
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
  const { t } = useTranslation('conversation');
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
        <section className="conversation-pane empty-pane" aria-label={t('pane.noneSelected')}>
          <p className="muted">{t('pane.pick')}</p>
        </section>
      )}
    </div>
  );
}

function ConversationPane({ conversationId }: { conversationId: string }) {
  const { state, actions } = useApp();
  const { t } = useTranslation('conversation');
  const c = state.conversations[conversationId];
  if (!c) return null;
  const title = conversationTitle(state, c);
  const peer = directPeer(state, c);
  const others = c.members.map((m) => m.userId).filter((id) => id !== state.me?.id);
  const changed = others.filter((id) => state.identityChanged[id]);
  const blockedReason = c.left
    ? t('blocked.left')
    : changed.length
      ? t('blocked.safety')
      : c.kind === 'direct' && !peer
        ? t('blocked.noPeer')
        : c.pending
          ? t('blocked.pending')
          : undefined;
  const warned = state.membershipWarnings[c.id];
  return (
    <section className="conversation-pane" aria-labelledby="conversation-title">
      <header className="pane-header">
        <button
          type="button"
          className="back-button"
          onClick={() => actions.navigate({ name: 'chats' })}
          aria-label={t('pane.back')}
        >
          ←
        </button>
        <Avatar userId={peer} name={title} size="medium" />
        <div className="pane-title">
          <h2 id="conversation-title">
            {peer && <PresenceDot userId={peer} />} {title}
          </h2>
          {peer && state.verified[peer] && <VerifiedMark />}
          {c.kind === 'group' && (
            <span className="muted small">{t('pane.members', { count: c.members.length })}</span>
          )}
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
              {t('pane.safety')}
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
              {t('pane.groupSettings')}
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
        <JumpFromUrl conversationId={c.id} />
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
