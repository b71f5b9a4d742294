import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { conversationTitle, describeError } from '../state/index.js';
import type { ConversationView } from '../state/index.js';
import { useRequestActions } from '../state/request-actions.js';
import { useApp } from '../state/store.js';
import { ReportDialog } from './ReportDialog.js';

/**
 * Who a request is from: the other person of a direct chat, else the group's owner.
 * @param c the conversation
 * @param me my user id
 * @returns their user id, if any
 */
export function requestSender(c: ConversationView, me: string | undefined): string | undefined {
  const others = c.members.filter((m) => m.userId !== me);
  if (c.kind === 'direct') return others[0]?.userId;
  return (others.find((m) => m.role === 'owner') ?? others[0])?.userId;
}

/**
 * Shown instead of the composer in a message request: who it is from, and Accept / Decline /
 * Block / Report. Until I accept, they get no presence, typing or read receipts of mine, and
 * their attachments are not downloaded by themselves.
 * @param props.conversation the request
 */
export function RequestPanel({ conversation }: { conversation: ConversationView }) {
  const { state } = useApp();
  const { t } = useTranslation('requests');
  const requests = useRequestActions();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [reporting, setReporting] = useState(false);
  const from = requestSender(conversation, state.me?.id);
  const user = from ? state.users[from] : undefined;
  const name = user?.displayName ?? t('panel.unknown');
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="request-panel notice" aria-labelledby="request-title" role="region">
      <h3 id="request-title">
        {t('panel.title', { name })}
        {user?.username ? ` (@${user.username})` : ''}
      </h3>
      <p className="small">
        {conversation.kind === 'group'
          ? `${t('panel.addedYou', { name, title: conversationTitle(state, conversation) })} `
          : ''}
        {t('panel.explain', { name })}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          disabled={busy}
          onClick={() => void run(() => requests.accept(conversation))}
        >
          {t('panel.accept')}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() => void run(() => requests.decline(conversation.id))}
        >
          {t('panel.decline')}
        </button>
        {from && (
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() => void run(() => requests.block(from, conversation.id))}
          >
            {t('panel.block')}
          </button>
        )}
        {from && (
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() => setReporting(true)}
          >
            {t('panel.report')}
          </button>
        )}
      </div>
      {reporting && from && (
        <ReportDialog
          name={name}
          onClose={() => setReporting(false)}
          onSubmit={(r) => requests.report({ ...r, userId: from, conversationId: conversation.id })}
        />
      )}
    </section>
  );
}
