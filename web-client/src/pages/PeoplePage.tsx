import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { UserSearch } from '../components/UserSearch.js';
import { describeError } from '../state/index.js';
import type { UserView } from '../state/index.js';
import { useApp } from '../state/store.js';

/** Directory search; "Message" opens (or creates) the direct chat with that person. */
export function PeoplePage() {
  const { api, state, actions } = useApp();
  const { t } = useTranslation('people');
  const [error, setError] = useState<string | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);

  const message = async (user: UserView) => {
    setError(null);
    setBusyId(user.id);
    try {
      const existing = Object.values(state.conversations).find(
        (c) => c.kind === 'direct' && c.members.some((m) => m.userId === user.id),
      );
      const conversation = existing ?? (await api.createConversation('direct', [user.id]));
      await actions.upsertConversation(conversation);
      await actions.openConversation(conversation.id);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusyId(null);
    }
  };

  return (
    <section className="page" aria-labelledby="people-title">
      <div className="page-header">
        <h1 id="people-title">{t('title')}</h1>
        <button
          type="button"
          className="secondary"
          onClick={() => actions.navigate({ name: 'newGroup' })}
        >
          {t('newGroup')}
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <UserSearch
        label={t('searchLabel')}
        renderAction={(u) => (
          <button
            type="button"
            className="small"
            onClick={() => void message(u)}
            disabled={busyId === u.id}
            aria-label={t('messageLabel', { name: u.displayName })}
          >
            {t('message')}
          </button>
        )}
      />
    </section>
  );
}
