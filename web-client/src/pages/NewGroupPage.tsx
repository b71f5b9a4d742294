import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { UserSearch } from '../components/UserSearch.js';
import { describeError } from '../state/index.js';
import type { UserView } from '../state/index.js';
import { useApp } from '../state/store.js';

/** Creates a group: a title and the people picked from the directory. */
export function NewGroupPage() {
  const { api, actions } = useApp();
  const { t } = useTranslation('groups');
  const [title, setTitle] = useState('');
  const [picked, setPicked] = useState<UserView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (picked.length === 0) {
      setError(t('new.atLeastOne'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const c = await api.createConversation(
        'group',
        picked.map((u) => u.id),
        title.trim(),
      );
      await actions.upsertConversation(c);
      await actions.openConversation(c.id);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <section className="page" aria-labelledby="group-title">
      <h1 id="group-title">{t('new.title')}</h1>
      <form onSubmit={create} aria-label={t('new.title')}>
        <div className="field">
          <label htmlFor={titleId}>{t('groupName')}</label>
          <input
            id={titleId}
            value={title}
            required
            maxLength={100}
            onChange={(e) => setTitle(e.target.value)}
          />
        </div>
        <h2 className="small-heading">{t('members', { count: picked.length })}</h2>
        <ul className="chips" aria-label={t('new.chosen')}>
          {picked.map((u) => (
            <li key={u.id} className="chip">
              {u.displayName}
              <button
                type="button"
                className="chip-remove"
                aria-label={t('removeLabel', { name: u.displayName })}
                onClick={() => setPicked((p) => p.filter((x) => x.id !== u.id))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <UserSearch
          label={t('addPeople')}
          exclude={picked.map((u) => u.id)}
          renderAction={(u) => (
            <button
              type="button"
              className="small secondary"
              aria-label={t('addLabel', { name: u.displayName })}
              onClick={() => setPicked((p) => [...p, u])}
            >
              {t('add')}
            </button>
          )}
        />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button
            type="button"
            className="secondary"
            onClick={() => actions.navigate({ name: 'chats' })}
          >
            {t('cancel')}
          </button>
          <button type="submit" disabled={busy}>
            {t('new.create')}
          </button>
        </div>
      </form>
    </section>
  );
}
