import type { ChatApi, ChatEvent, ChatEventListener, MeView } from '../state/index.js';

/** A signed-in user for tests. */
export const alice: MeView = {
  id: '00000000-0000-4000-8000-00000000000a',
  username: 'alice',
  displayName: 'Alice',
  email: 'alice@example.test',
  emailVerified: true,
};
/** Another user for tests. */
export const bob = {
  id: '00000000-0000-4000-8000-00000000000b',
  username: 'bob',
  displayName: 'Bob',
};

/**
 * A direct conversation between {@link alice} and {@link bob}, as the list shows it.
 * @param id its id
 * @returns the conversation view
 */
export function directConversation(id: string) {
  return {
    id,
    kind: 'direct' as const,
    title: null,
    members: [
      { userId: alice.id, role: 'member' as const },
      { userId: bob.id, role: 'member' as const },
    ],
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

/**
 * A {@link ChatApi} stub for UI tests: every method rejects unless overridden, and `emit`
 * pushes events to subscribers as the SDK would.
 * @param overrides methods to implement
 * @returns the stub plus `emit`
 */
export function stubApi(overrides: Partial<ChatApi> = {}): ChatApi & { emit(e: ChatEvent): void } {
  const listeners = new Set<ChatEventListener>();
  const fail = (name: string) => () => Promise.reject(new Error(`stub: ${name} not implemented`));
  const base: ChatApi = {
    resume: async () => ({ kind: 'none' }),
    signUp: fail('signUp'),
    logIn: fail('logIn'),
    isBackupUpToDate: async () => true,
    backupNow: async () => undefined,
    unsentCount: async () => 0,
    logOut: async () => undefined,
    changePassword: fail('changePassword'),
    rotateRecoveryKey: fail('rotateRecoveryKey'),
    requestPasswordReset: async () => undefined,
    resetPassword: async () => undefined,
    verifyEmail: async () => undefined,
    searchUsers: async () => ({ users: [], nextCursor: null }),
    getUser: async (id) => (id === bob.id ? bob : Promise.reject(new Error('unknown'))),
    presence: async () => [],
    updateProfile: fail('updateProfile'),
    listConversations: async () => [],
    createConversation: fail('createConversation'),
    addMembers: fail('addMembers'),
    setMemberRole: fail('setMemberRole'),
    removeMember: fail('removeMember'),
    renameGroup: fail('renameGroup'),
    setDisappearingTimer: fail('setDisappearingTimer'),
    history: async () => [],
    summary: async () => ({ last: undefined, unread: 0, unreadMentions: 0 }),
    markAllRead: async () => undefined,
    searchMessages: async () => [],
    prepareSearch: async () => undefined,
    sendText: fail('sendText'),
    sendAttachment: fail('sendAttachment'),
    maxAttachmentBytes: fail('maxAttachmentBytes'),
    mutedConversations: async () => [],
    setMuted: async () => undefined,
    retry: fail('retry'),
    downloadAttachment: fail('downloadAttachment'),
    markRead: async () => undefined,
    reactToMessage: fail('reactToMessage'),
    editMessage: fail('editMessage'),
    deleteForEveryone: fail('deleteForEveryone'),
    deleteForMe: fail('deleteForMe'),
    avatarImage: async () => undefined,
    setAvatar: fail('setAvatar'),
    removeAvatar: fail('removeAvatar'),
    onAvatarChanged: () => () => undefined,
    retryPlaceholders: () => [],
    retryStats: () => undefined,
    onRetryChanged: () => () => undefined,
    setTyping: () => undefined,
    safetyNumber: fail('safetyNumber'),
    markVerified: async () => undefined,
    verifiedUsers: async () => new Set(),
    pendingIdentityChanges: async () => new Set(),
    acceptIdentity: async () => undefined,
    listDevices: async () => [],
    removeDevice: fail('removeDevice'),
    deviceAlerts: async () => ({ foreign: [], needsLogin: false }),
    relinkDevice: fail('relinkDevice'),
    logOutOtherDevices: async () => undefined,
    acceptRequest: fail('acceptRequest'),
    declineRequest: fail('declineRequest'),
    block: fail('block'),
    unblock: fail('unblock'),
    blockedUsers: async () => [],
    report: fail('report'),
    getPrivacy: fail('getPrivacy'),
    savePrivacy: fail('savePrivacy'),
    getPreferences: fail('getPreferences'),
    savePreferences: fail('savePreferences'),
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const api = { ...base, ...overrides };
  // Summaries come from the stub's history unless a test gives its own (no test needs both).
  if (!overrides.summary) {
    api.summary = async (id) => {
      const all = await api.history(id, { limit: 100_000 });
      const unread = all.filter((m) => m.direction === 'in' && m.status === 'received');
      // Every stub session is Alice's.
      const mentions = unread.filter((m) => m.mentions?.includes(alice.id));
      return { last: all.at(-1), unread: unread.length, unreadMentions: mentions.length };
    };
  }
  return { ...api, emit: (e) => listeners.forEach((l) => l(e)) };
}
