import { useEffect, useId, useState } from 'react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { DIRECTORY_QUERY_MIN } from '@cipherchat/contracts';
import { describeError } from '../state/index.js';
import type { UserView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Avatar } from './Avatar.js';
import { PresenceDot } from './PresenceDot.js';
import { VerifiedMark } from './VerifiedMark.js';

/** Wait this long after the last keystroke before searching. */
const DEBOUNCE_MS = 250;

/**
 * Directory search (user-service `GET /api/user/users?query=`) with presence and paging.
 * @param props.label label of the search box
 * @param props.renderAction the button(s) for each result
 * @param props.exclude user ids not to list (me, existing members)
 */
export function UserSearch({
  label,
  renderAction,
  exclude = [],
}: {
  label: string;
  renderAction: (user: UserView) => ReactNode;
  exclude?: string[];
}) {
  const { api, state, dispatch, actions } = useApp();
  const { t } = useTranslation('people');
  const [query, setQuery] = useState('');
  const [users, setUsers] = useState<UserView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();

  useEffect(() => {
    const q = query.trim();
    // the directory needs a few characters (a shorter query is refused: it never lists everyone)
    if (q.length < DIRECTORY_QUERY_MIN) {
      setUsers([]);
      setCursor(null);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      setLoading(true);
      setError(null);
      api.searchUsers(q).then(
        (page) => {
          if (cancelled) return;
          setUsers(page.users);
          setCursor(page.nextCursor);
          setLoading(false);
          dispatch({ type: 'usersLoaded', users: page.users });
          void actions.loadPresence(page.users.map((u) => u.id));
        },
        (e: unknown) => {
          if (cancelled) return;
          setError(describeError(e));
          setLoading(false);
        },
      );
    }, DEBOUNCE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [api, query, dispatch, actions]);

  const more = async () => {
    if (!cursor) return;
    try {
      const page = await api.searchUsers(query.trim(), cursor);
      setUsers((u) => [...u, ...page.users.filter((x) => !u.some((y) => y.id === x.id))]);
      setCursor(page.nextCursor);
      dispatch({ type: 'usersLoaded', users: page.users });
      void actions.loadPresence(page.users.map((u) => u.id));
    } catch (e) {
      setError(describeError(e));
    }
  };

  const skip = new Set([...exclude, state.me?.id ?? '']);
  const shown = users.filter((u) => !skip.has(u.id));
  return (
    <div className="user-search">
      <div className="field">
        <label htmlFor={inputId}>{label}</label>
        <input
          id={inputId}
          type="search"
          value={query}
          autoComplete="off"
          placeholder={t('search.placeholder')}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      <div role="status" aria-live="polite" className="muted small">
        {loading
          ? t('search.searching')
          : query.trim() && shown.length === 0 && !error
            ? t('search.nobody')
            : ''}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <ul className="user-list" aria-label={t('search.results')}>
        {shown.map((u) => (
          <li key={u.id} className="user-row">
            <Avatar userId={u.id} name={u.displayName} />
            <PresenceDot userId={u.id} />
            <span className="user-names">
              <span className="user-display">{u.displayName}</span>{' '}
              <span className="muted">@{u.username}</span>
            </span>
            {state.verified[u.id] && <VerifiedMark />}
            <span className="actions">{renderAction(u)}</span>
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" className="secondary small" onClick={() => void more()}>
          {t('search.more')}
        </button>
      )}
    </div>
  );
}
