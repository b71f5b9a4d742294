import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { GroupRenameForm } from '../components/GroupRenameForm.js';
import { LeaveGroupDialog } from '../components/LeaveGroupDialog.js';
import { PresenceDot } from '../components/PresenceDot.js';
import { UserSearch } from '../components/UserSearch.js';
import { VerifiedMark } from '../components/VerifiedMark.js';
import { describeError } from '../state/index.js';
import type { GroupPermissionsView } from '../state/index.js';
import { useApp } from '../state/store.js';

/** Nothing allowed (a group whose permissions are not known, or that I left). */
const NONE: GroupPermissionsView = {
  rename: false,
  add: false,
  leave: false,
  remove: [],
  setRole: [],
};

/**
 * Group settings: the name, the members with their roles, promote / demote, remove, add, and
 * leave (after a confirmation). What my role may not do is disabled: the SDK's group rules
 * decide (`ConversationView.permissions`), the same rules every member's client applies.
 * @param props.conversationId the group
 */
export function MembersPage({ conversationId }: { conversationId: string }) {
  const { api, state, actions } = useApp();
  const { t } = useTranslation('groups');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const c = state.conversations[conversationId];
  if (!c) return <p className="pad">{t('settings.gone')}</p>;
  const may = c.left ? NONE : (c.permissions ?? NONE);
  const title = c.title ?? t('settings.fallbackTitle');

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
      await actions.upsertConversation(await api.removeMember(conversationId, userId));
    });
  const setRole = (userId: string, role: 'admin' | 'member') =>
    run(async () => {
      await actions.upsertConversation(await api.setMemberRole(conversationId, userId, role));
    });
  const add = (userId: string) =>
    run(async () => {
      await actions.upsertConversation(await api.addMembers(conversationId, [userId]));
    });
  const rename = (next: string) =>
    run(async () => {
      await actions.upsertConversation(await api.renameGroup(conversationId, next));
    });
  const leave = async () => {
    if (!state.me) return;
    await api.removeMember(conversationId, state.me.id);
    // The chat stays on screen, read-only, with its history (the server no longer lists it).
    actions.navigate({ name: 'chats', conversationId });
    await actions.refreshConversations();
  };

  return (
    <section className="page" aria-labelledby="members-title">
      <div className="page-header">
        <h1 id="members-title">{t('settings.title', { title })}</h1>
        <button
          type="button"
          className="secondary"
          onClick={() => void actions.openConversation(conversationId)}
        >
          {t('settings.backToChat')}
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <p className="muted small">{t('settings.explain')}</p>
      {c.pending && <p className="muted">{t('settings.pending')}</p>}
      {c.left && <p className="notice">{t('settings.left')}</p>}
      <GroupRenameForm
        key={c.title ?? ''}
        current={c.title ?? ''}
        busy={busy}
        allowed={may.rename}
        onRename={rename}
      />
      <h2 className="small-heading">{t('members', { count: c.members.length })}</h2>
      <ul className="user-list" aria-label={t('settings.list')}>
        {c.members.map((m) => {
          const me = m.userId === state.me?.id;
          const name = me
            ? t('settings.me', { name: state.me?.displayName ?? t('settings.you') })
            : (state.users[m.userId]?.displayName ?? t('settings.unknown'));
          const toRole = m.role === 'admin' ? 'member' : 'admin';
          return (
            <li key={m.userId} className="user-row" data-testid="group-member">
              <PresenceDot userId={m.userId} />
              <span className="user-names">
                <span className="user-display">{name}</span>{' '}
                <span className="muted small" data-testid="member-role">
                  {t(`settings.role.${m.role}`, { defaultValue: m.role })}
                </span>
              </span>
              {state.verified[m.userId] && <VerifiedMark />}
              <span className="actions">
                {!me && (
                  <button
                    type="button"
                    className="small secondary"
                    onClick={() => actions.navigate({ name: 'safety', userId: m.userId })}
                  >
                    {t('settings.safetyNumber')}
                  </button>
                )}
                {!me && m.role !== 'owner' && (
                  <button
                    type="button"
                    className="small secondary"
                    disabled={busy || !may.setRole.includes(m.userId)}
                    title={
                      may.setRole.includes(m.userId) ? undefined : t('settings.onlyOwnerRoles')
                    }
                    onClick={() => void setRole(m.userId, toRole)}
                    aria-label={t(
                      toRole === 'member' ? 'settings.makeMemberLabel' : 'settings.makeAdminLabel',
                      { name },
                    )}
                  >
                    {toRole === 'member' ? t('settings.makeMember') : t('settings.makeAdmin')}
                  </button>
                )}
                {!me && m.role !== 'owner' && (
                  <button
                    type="button"
                    className="small danger"
                    disabled={busy || !may.remove.includes(m.userId)}
                    title={may.remove.includes(m.userId) ? undefined : t('settings.removeHint')}
                    onClick={() => void remove(m.userId)}
                    aria-label={t('removeLabel', { name })}
                  >
                    {t('settings.remove')}
                  </button>
                )}
                {me && (
                  <button
                    type="button"
                    className="small danger"
                    disabled={busy || !may.leave}
                    onClick={() => setLeaving(true)}
                  >
                    {t('settings.leave')}
                  </button>
                )}
              </span>
            </li>
          );
        })}
      </ul>
      {may.add ? (
        <UserSearch
          label={t('addPeople')}
          exclude={c.members.map((m) => m.userId)}
          renderAction={(u) => (
            <button
              type="button"
              className="small"
              disabled={busy}
              aria-label={t('addLabel', { name: u.displayName })}
              onClick={() => void add(u.id)}
            >
              {t('add')}
            </button>
          )}
        />
      ) : (
        !c.left && <p className="muted small">{t('settings.onlyAdminsAdd')}</p>
      )}
      {leaving && (
        <LeaveGroupDialog title={title} onLeave={leave} onClose={() => setLeaving(false)} />
      )}
    </section>
  );
}
