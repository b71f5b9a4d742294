import { useId, useState } from 'react';
import { PresenceDot } from '../components/PresenceDot.js';
import { UserSearch } from '../components/UserSearch.js';
import { VerifiedMark } from '../components/VerifiedMark.js';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';

/**
 * Group members: roles, verified marks, add and remove (owners and admins), leave.
 * @param props.conversationId the group
 */
export function MembersPage({ conversationId }: { conversationId: string }) {
  const { api, state, actions } = useApp();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const c = state.conversations[conversationId];
  if (!c) return <p className="pad">This group is gone.</p>;
  const myRole = c.members.find((m) => m.userId === state.me?.id)?.role ?? 'member';
  const canManage = myRole === 'owner' || myRole === 'admin';

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
  const remove = (userId: string) =>
    run(async () => {
      const updated = await api.removeMember(conversationId, userId);
      if (userId === state.me?.id) {
        await actions.refreshConversations();
        actions.navigate({ name: 'chats' });
      } else {
        await actions.upsertConversation(updated);
      }
    });
  const setRole = (userId: string, role: 'admin' | 'member') =>
    run(async () => {
      await actions.upsertConversation(await api.setMemberRole(conversationId, userId, role));
    });
  const add = (userId: string) =>
    run(async () => {
      await actions.upsertConversation(await api.addMembers(conversationId, [userId]));
    });
  const rename = (title: string) =>
    run(async () => {
      await actions.upsertConversation(await api.renameGroup(conversationId, title));
    });

  return (
    <section className="page" aria-labelledby="members-title">
      <div className="page-header">
        <h1 id="members-title">{c.title ?? 'Group'}: members</h1>
        <button
          type="button"
          className="secondary"
          onClick={() => void actions.openConversation(conversationId)}
        >
          Back to chat
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <p className="muted small">
        Members, roles and the name are set by members, end to end: this list is your own view of
        the group, not the server’s.
      </p>
      {c.pending && <p className="muted">Waiting for the group’s details from a member.</p>}
      {canManage && <RenameForm current={c.title ?? ''} busy={busy} onRename={rename} />}
      <ul className="user-list" aria-label="Members">
        {c.members.map((m) => {
          const me = m.userId === state.me?.id;
          const name = me
            ? `${state.me?.displayName ?? 'You'} (you)`
            : (state.users[m.userId]?.displayName ?? 'Unknown');
          return (
            <li key={m.userId} className="user-row">
              <PresenceDot userId={m.userId} />
              <span className="user-names">
                <span className="user-display">{name}</span>{' '}
                <span className="muted small">{m.role}</span>
              </span>
              {state.verified[m.userId] && <VerifiedMark />}
              <span className="actions">
                {!me && (
                  <button
                    type="button"
                    className="small secondary"
                    onClick={() => actions.navigate({ name: 'safety', userId: m.userId })}
                  >
                    Safety number
                  </button>
                )}
                {!me && myRole === 'owner' && m.role !== 'owner' && (
                  <button
                    type="button"
                    className="small secondary"
                    disabled={busy}
                    onClick={() => void setRole(m.userId, m.role === 'admin' ? 'member' : 'admin')}
                    aria-label={`${m.role === 'admin' ? 'Make a member' : 'Make an admin'}: ${name}`}
                  >
                    {m.role === 'admin' ? 'Make member' : 'Make admin'}
                  </button>
                )}
                {!me && canManage && m.role !== 'owner' && (
                  <button
                    type="button"
                    className="small danger"
                    disabled={busy}
                    onClick={() => void remove(m.userId)}
                    aria-label={`Remove ${name}`}
                  >
                    Remove
                  </button>
                )}
                {me && (
                  <button
                    type="button"
                    className="small danger"
                    disabled={busy}
                    onClick={() => void remove(m.userId)}
                  >
                    Leave group
                  </button>
                )}
              </span>
            </li>
          );
        })}
      </ul>
      {canManage && (
        <UserSearch
          label="Add people"
          exclude={c.members.map((m) => m.userId)}
          renderAction={(u) => (
            <button
              type="button"
              className="small"
              disabled={busy}
              aria-label={`Add ${u.displayName}`}
              onClick={() => void add(u.id)}
            >
              Add
            </button>
          )}
        />
      )}
    </section>
  );
}

/**
 * The group name field (owners and admins): the name travels end to end only.
 * @param props.current the current name
 * @param props.busy whether another change is running
 * @param props.onRename saves a new name
 */
function RenameForm({
  current,
  busy,
  onRename,
}: {
  current: string;
  busy: boolean;
  onRename: (title: string) => Promise<void>;
}) {
  const [title, setTitle] = useState(current);
  const id = useId();
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        void onRename(title);
      }}
    >
      <label htmlFor={id}>Group name</label>
      <input id={id} value={title} maxLength={128} onChange={(e) => setTitle(e.target.value)} />
      <button type="submit" className="small" disabled={busy || title.trim() === current}>
        Rename
      </button>
    </form>
  );
}
