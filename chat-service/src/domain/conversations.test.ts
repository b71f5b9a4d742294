import { describe, expect, it } from 'vitest';
import type { ConversationRole } from '@cipherchat/contracts';
import type { ChatDeps } from './deps.js';
import type { ConversationRow } from './ports.js';
import { addGroupMembers, clearGroupTitle, createConversation, removeGroupMember } from './conversations.js';
import { storeBackup } from './backup.js';

const me = '00000000-0000-4000-8000-00000000000a';
const bob = '00000000-0000-4000-8000-00000000000b';
const carol = '00000000-0000-4000-8000-00000000000c';
const group = '00000000-0000-4000-8000-0000000000c1';

/** A group in memory behind the conversation port, recording notifications and transactions. */
function fakeDeps(roles: Record<string, ConversationRole>, options: { maxMembers?: number } = {}) {
  const notified: { userIds: readonly string[]; event: string }[] = [];
  let transactions = 0;
  const row = (): ConversationRow => ({
    id: group,
    kind: 'group',
    title: 't',
    members: Object.entries(roles).map(([userId, role]) => ({ userId, role, joinedAt: new Date(0).toISOString(), state: 'accepted' as const })),
    createdAt: new Date(0),
    updatedAt: new Date(0),
  });
  const deps = {
    config: { MAX_GROUP_MEMBERS: options.maxMembers ?? 256, BACKUP_MAX_BYTES: 1024 },
    db: {},
    transact: async <T>(work: (tx: object) => Promise<T>) => {
      transactions++;
      return work({});
    },
    conversations: {
      roleOf: async (_db: object, _id: string, userId: string) => roles[userId] ?? null,
      conversationInfo: async () => ({ kind: 'group' as const, members: Object.keys(roles).length }),
      memberIds: async () => Object.keys(roles),
      deletedAmong: async () => [],
      addMembers: async (_tx: object, _id: string, userIds: string[]) => userIds.filter((u) => !(u in roles)),
      removeMember: async (_tx: object, _id: string, userId: string) => void delete roles[userId],
      findForMember: async () => row(),
    },
    notifier: { notifyUsers: (userIds: readonly string[], event: string) => void notified.push({ userIds, event }) },
  } as unknown as ChatDeps;
  return { deps, notified, transactions: () => transactions };
}

describe('conversation use cases', () => {
  it('when a direct conversation names two others, then validation_error before any transaction', async () => {
    const f = fakeDeps({});
    await expect(createConversation(f.deps, me, { kind: 'direct', memberIds: [bob, carol] })).rejects.toMatchObject({ status: 400, code: 'validation_error' });
    expect(f.transactions()).toBe(0);
  });

  it('when a group comes with a title, or a self conversation names someone else, then validation_error before any transaction', async () => {
    const f = fakeDeps({});
    await expect(createConversation(f.deps, me, { kind: 'group', memberIds: [bob], title: 'plans' })).rejects.toMatchObject({ status: 400, code: 'validation_error' });
    await expect(createConversation(f.deps, me, { kind: 'self', memberIds: [bob] })).rejects.toMatchObject({ status: 400, code: 'validation_error' });
    expect(f.transactions()).toBe(0);
  });

  it('when any member clears a legacy title, then it is cleared and the members are told', async () => {
    const f = fakeDeps({ [me]: 'member', [bob]: 'owner' });
    let cleared = 0;
    (f.deps.conversations as unknown as { clearTitle: () => Promise<void> }).clearTitle = async () => void cleared++;
    await clearGroupTitle(f.deps, me, group);
    expect(cleared).toBe(1);
    expect(f.notified).toEqual([{ userIds: [me, bob], event: 'conversation:updated' }]);
  });

  it('when a group would exceed MAX_GROUP_MEMBERS, then 422 before any transaction', async () => {
    const f = fakeDeps({}, { maxMembers: 2 });
    await expect(createConversation(f.deps, me, { kind: 'group', memberIds: [bob, carol] })).rejects.toMatchObject({ status: 422 });
    expect(f.transactions()).toBe(0);
  });

  it('when a plain member adds someone, then forbidden and nobody is notified', async () => {
    const f = fakeDeps({ [me]: 'member', [bob]: 'owner' });
    await expect(addGroupMembers(f.deps, me, group, [carol])).rejects.toMatchObject({ status: 403 });
    expect(f.notified).toEqual([]);
  });

  it('when a non-member removes someone, then not_found, as for a missing conversation', async () => {
    const f = fakeDeps({ [bob]: 'owner' });
    await expect(removeGroupMember(f.deps, me, group, bob)).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('when an admin removes a member, then everyone who was a member before is told, the removed one included', async () => {
    const f = fakeDeps({ [me]: 'admin', [bob]: 'owner', [carol]: 'member' });
    await removeGroupMember(f.deps, me, group, carol);
    expect(f.notified).toEqual([{ userIds: [me, bob, carol], event: 'conversation:updated' }]);
  });
});

describe('backup use case', () => {
  it('when the decoded backup is larger than BACKUP_MAX_BYTES, then payload_too_large and nothing is stored', async () => {
    const f = fakeDeps({});
    await expect(storeBackup(f.deps, me, 1, Buffer.alloc(1025))).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
  });
});
