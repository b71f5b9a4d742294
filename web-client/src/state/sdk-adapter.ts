import {
  ApiError,
  BackupLockedError,
  ChatClient,
  createIndexedDbStore,
  isUnreachable,
  type Conversation,
} from '@cipherchat/client';
import type { Me } from '@cipherchat/contracts';
import type {
  ChatApi,
  ChatEvent,
  ChatEventListener,
  MeView,
  ResumeResult,
} from './chat-api.js';
import { lastAccount } from './last-account.js';
import { offlineSessions } from './sdk-offline.js';
import { withSerialisedRefresh } from './refresh-lock.js';
import { DeviceAlertState, forwardClientEvents } from './sdk-events.js';
import { sdkAttachments } from './sdk-attachments.js';
import { sdkSearch } from './sdk-search.js';
import { sdkAvatars } from './sdk-avatars.js';
import { sdkRetries } from './sdk-retries.js';
import { sdkMessageActions } from './sdk-message-actions.js';
import { deviceLabel, toConversation, toMe, toUser, toView } from './sdk-views.js';

/** How long the log-out dialog waits for the backup upload before warning it is behind. */
export const BACKUP_CHECK_TIMEOUT_MS = 5000;

/**
 * One IndexedDB database per account and origin. Every record in it is sealed by the SDK with
 * a non-extractable device key; nothing goes to localStorage.
 * @param userId account id
 * @returns database name
 */
export function storeName(userId: string): string {
  return `cipherchat-${userId}`;
}

/**
 * Binds the UI's {@link ChatApi} to `@cipherchat/client`. This file (with its view mapping,
 * sdk-views.ts, and the event forwarding, sdk-events.ts) is the only one that knows the SDK: Signal sessions, OPAQUE, key backup, attachment crypto and the sealed IndexedDB history
 * all live there, and so does every call to the servers: the plain REST routes (directory,
 * profile, conversations, devices, preferences) are the SDK's typed `client.api.user`,
 * `client.api.chat` and `client.api.notifications`, parsed with the contracts' schemas. The
 * browser's cookies, the serialised refresh (refresh-lock.ts) and the retry after a refresh are
 * the SDK's `ApiClient` in `cookies` mode.
 * @returns the API used by the whole UI
 */
export function createChatApi(): ChatApi {
  const fetchImpl = withSerialisedRefresh(globalThis.fetch.bind(globalThis));
  const client = new ChatClient({
    baseUrl: '',
    socketUrl: window.location.origin,
    auth: 'cookies',
    fetch: fetchImpl,
    deviceName: deviceLabel(),
    openStore: (userId) => createIndexedDbStore(storeName(userId)),
  });
  // One HTTP client for the whole page (the SDK's), so there is one (deduplicated) refresh.
  const http = client.api;
  const listeners = new Set<ChatEventListener>();
  const emit = (e: ChatEvent) => {
    for (const l of listeners) l(e);
  };
  /**
   * Runs a signed-in call. A 401 that survived the SDK's refresh means the session is gone
   * (revoked elsewhere, e.g. by "log out other devices"): close the socket and go back to the
   * login screen. The sealed local store stays, so logging in again on this browser reopens the
   * same keys and history.
   */
  const signedIn = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && me) endSession();
      throw err;
    }
  };
  let me: MeView | null = null;
  /** The server ended the session: back to the login screen, and no offline opening of it. */
  const endSession = () => {
    me = null;
    client.disconnect();
    void lastAccount.clear().catch(() => undefined);
    emit({ type: 'sessionEnded', reason: 'revoked' });
  };


  const conversationView = (c: Conversation) => {
    const view = toConversation(c, c.kind === 'group' ? client.groups.info(c.id) : undefined, me?.id);
    const timer = client.disappearingTimer(c.id);
    return timer ? { ...view, disappearingS: timer } : view;
  };

  const alerts = new DeviceAlertState();
  forwardClientEvents(client, emit, alerts);
  // The server cut this session's socket (logged out elsewhere, revoked from another device,
  // password changed, account deleted): the SDK reports a final refusal. End it like a 401.
  client.on('error', (err) => {
    if (
      err instanceof ApiError &&
      (err.code === 'session_revoked' || err.code === 'account_deleted') &&
      me
    ) {
      endSession();
    }
  });

  // The socket reconnects by itself (with back-off); when the browser says the network is
  // back, nudge it now. The banner clears on the SDK's `connection` event, not on this one.
  window.addEventListener('online', () => {
    if (!me) return;
    if (client.offline) {
      void offline.complete();
    } else if (client.connected) {
      // The socket may have lived through the outage, or be half-open and not know yet: a
      // round trip proves it (and fetches anything queued meanwhile). No answer: Socket.IO's
      // heartbeat drops it soon and the reconnection then clears the banner.
      void client.syncMailbox().then(
        () => emit({ type: 'connection', online: true }),
        () => undefined,
      );
    } else {
      void client.connect().catch(() => undefined);
    }
  });

  const started = (user: Me): MeView => {
    me = toMe(user);
    // Confirmed by the server: this account may open offline on this browser (last-account.ts).
    if (!client.offline) void lastAccount.set(user.id).catch(() => undefined);
    return me;
  };

  // Opening without the server, and completing that session once it answers (sdk-offline.ts).
  const offline = offlineSessions({
    client,
    emit,
    started: (user) => started(user),
    signedIn: () => me !== null,
    endSession: () => endSession(),
  });

  const api: ChatApi = {
    async resume(): Promise<ResumeResult> {
      // Is anyone signed in? (The SDK refreshes an expired access cookie once here; asking this
      // first means a signed-out page load costs one refresh attempt, not two.)
      let user: Me;
      try {
        user = await http.user.me();
      } catch (err) {
        return isUnreachable(err) ? offline.resume() : { kind: 'none' };
      }
      // The SDK reopens the sealed IndexedDB store with the session cookie, no password needed.
      try {
        const resumed = await client.resume();
        if (resumed) return { kind: 'active', me: started(resumed) };
      } catch {
        // Fall through: the session is alive while this browser's keys are unusable.
      }
      // A live session but no usable local keys (e.g. wiped store): log in again to restore.
      return { kind: 'locked', me: toMe(user) };
    },
    async signUp(input) {
      const r = await client.signUp(input);
      return { me: started(r.user), recoveryKey: r.recoveryKey };
    },
    async logIn(email, password, options = {}) {
      try {
        const r = await client.logIn({ email, password, ...options });
        return { me: started(r.user), ...(r.recoveryKey ? { recoveryKey: r.recoveryKey } : {}) };
      } catch (err) {
        if (err instanceof BackupLockedError) throw new ApiError(0, 'backup_locked', err.message);
        // Refused at device registration (the account has its maximum of devices): end the
        // half-open session (the sealed store stays: a browser that had history keeps it).
        if (err instanceof ApiError && err.code === 'too_many_devices')
          await client.logOut().catch(() => undefined);
        throw err;
      }
    },
    async unsentCount() {
      return (await client.store.listOutgoingJobs()).length;
    },
    async isBackupUpToDate() {
      // An upload that never settles (server down, socket half-open) must not hold up logging
      // out: after BACKUP_CHECK_TIMEOUT_MS the backup counts as not up to date.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), BACKUP_CHECK_TIMEOUT_MS);
      });
      try {
        return await Promise.race([client.flushBackup().then(() => true), timedOut]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    backupNow: () => client.flushBackup(),
    async logOut(options = {}) {
      offline.stop();
      await lastAccount.clear().catch(() => undefined);
      if (me) {
        // Remove: this browser's device goes too (its own proof), so logged-out browsers do not
        // fill the device limit. Keep: device and sealed store stay for the next login here.
        await client.logOut(options.keepDevice ? {} : { forget: true, removeDevice: true });
      } else {
        await http.user.logOut().catch(() => undefined);
      }
      me = null;
    },
    changePassword: (newPassword) => client.changePassword({ newPassword }),
    rotateRecoveryKey: () => client.rotateRecoveryKey(),
    requestPasswordReset: (email) => client.requestPasswordReset(email),
    async resetPassword(token, newPassword) {
      await client.resetPassword({ token, newPassword });
    },
    verifyEmail: (token) => client.verifyEmail(token),

    async searchUsers(query, cursor) {
      const page = await signedIn(() => http.user.searchUsers(query, { cursor }));
      return { users: page.users.map(toUser), nextCursor: page.nextCursor };
    },
    // Names as last seen come from the local store while the server cannot be reached.
    getUser: async (id) => toUser(await signedIn(() => client.getUser(id))),
    async presence(userIds) {
      const ids = userIds.filter((id) => id !== me?.id);
      if (ids.length === 0 || !client.connected) return [];
      const list = await client.presence(ids);
      return list.map((p) => ({
        userId: p.userId,
        online: p.online,
        ...(p.lastSeenAt ? { lastSeenAt: p.lastSeenAt } : {}),
      }));
    },
    async updateProfile(p) {
      me = toMe(await signedIn(() => http.user.updateMe(p)));
      return me;
    },

    // Group changes are the SDK's end-to-end operations (control messages to the members of my
    // view); a group's title and members shown are my view's, never the server's list.
    listConversations: async () =>
      (await signedIn(() => client.listConversations())).map(conversationView),
    async createConversation(kind, memberIds, title) {
      const input = kind === 'group' && title ? { kind, memberIds, title } : { kind, memberIds };
      return conversationView(await signedIn(() => client.createConversation(input)));
    },
    async addMembers(id, userIds) {
      await signedIn(() => client.groups.add(id, userIds));
      return conversationView(await signedIn(() => client.getConversation(id, true)));
    },
    async setMemberRole(id, userId, role) {
      await signedIn(() => client.groups.setRole(id, userId, role));
      return conversationView(await signedIn(() => client.getConversation(id, true)));
    },
    async removeMember(id, userId) {
      if (userId === me?.id) {
        await signedIn(() => client.groups.leave(id));
        return { id, kind: 'group', title: null, members: [], createdAt: new Date().toISOString() };
      }
      await signedIn(() => client.groups.remove(id, userId));
      return conversationView(await signedIn(() => client.getConversation(id, true)));
    },
    async renameGroup(id, title) {
      await signedIn(() => client.groups.rename(id, title));
      return conversationView(await signedIn(() => client.getConversation(id)));
    },
    async setDisappearingTimer(id, seconds) {
      // Applied here at once; a direct chat's `timer` message waits in the queue while offline.
      await signedIn(() => client.setDisappearingTimer(id, seconds, { wait: false }));
      return conversationView(await signedIn(() => client.getConversation(id)));
    },

    // Pages over the SDK's history index: only the page's records are decrypted.
    async history(conversationId, { before, beforeId, limit }) {
      // Without an id, `before` alone: the cursor sorts after every message of that millisecond
      // except those whose id is '' (none), so it keeps the old exclusive-time meaning.
      const cursor = before === undefined ? undefined : { sentAt: before, id: beforeId ?? '' };
      const page = await client.messages.page(conversationId, { limit, ...(cursor ? { before: cursor } : {}) });
      return page.map((m) => toView(m));
    },
    async summary(conversationId) {
      const s = await client.messages.summary(conversationId);
      return { last: s.last && toView(s.last), unread: s.unread, unreadMentions: s.unreadMentions };
    },
    async markAllRead(conversationId) {
      await client.messages.markAllRead(conversationId);
    },
    // Sends return once the message is queued (status "sending"); `messageUpdated` follows it.
    async sendText(conversationId, text, extra) {
      return toView(await client.sendText(conversationId, text, { wait: false, ...extra }));
    },
    mutedConversations: () => signedIn(() => client.mutedConversations()),
    async setMuted(conversationId, on) {
      await signedIn(() => client.setMuted(conversationId, on));
    },
    ...sdkAttachments(client),
    ...sdkSearch(client),
    async retry(message) {
      // The same message id goes back into the SDK's queue: no copy, nothing to hide.
      return toView(await client.retryMessage(message.id, { wait: false }));
    },
    ...sdkMessageActions(client),
    ...sdkAvatars(client),
    ...sdkRetries(client),
    markRead: (conversationId, ids) => client.markRead(conversationId, ids),
    setTyping(conversationId, on) {
      void client.setTyping(conversationId, on).catch(() => undefined);
    },

    async safetyNumber(userId) {
      const [sn, status] = await Promise.all([
        client.safetyNumber(userId),
        client.identityStatus(userId),
      ]);
      return { digits: sn.digits, qrPayload: sn.qrPayload, verified: status === 'verified' };
    },
    markVerified: (userId) => client.markVerified(userId),
    async verifiedUsers() {
      const ids = await client.store.listIdentities();
      return new Set(ids.filter((i) => i.status === 'verified').map((i) => i.userId));
    },
    async pendingIdentityChanges() {
      const ids = await client.store.listIdentities();
      return new Set(ids.filter((i) => i.status === 'untrusted').map((i) => i.userId));
    },
    acceptIdentity: (userId) => client.acceptIdentity(userId),

    async listDevices() {
      // Names come from the devices' own end-to-end announcements; the server keeps none.
      const devices = await signedIn(() => client.devices());
      return devices.map((d) => ({
        deviceId: d.deviceId,
        ...(d.name !== null ? { name: d.name } : {}),
        current: d.current,
        createdAt: d.createdAt,
        ...(d.lastActiveAt ? { lastActiveAt: d.lastActiveAt } : {}),
        status: d.status,
      }));
    },
    async removeDevice(deviceId) {
      await signedIn(() => client.removeDevice(deviceId));
      alerts.foreign.delete(deviceId);
    },
    async deviceAlerts() {
      if (me && !alerts.needsLogin) alerts.check(await client.devices().catch(() => []));
      return alerts.snapshot();
    },
    async relinkDevice(password) {
      if (!me) throw new ApiError(401, 'unauthorized', 'Not logged in.');
      // The same sealed store: the identity and history stay; the SDK registers a new device.
      const r = await client.logIn({ email: me.email, password });
      alerts.needsLogin = false;
      started(r.user);
    },
    async logOutOtherDevices() {
      await signedIn(() => http.user.revokeOtherSessions());
    },
    acceptRequest: (id) => signedIn(() => client.acceptRequest(id)),
    declineRequest: (id) => signedIn(() => client.declineRequest(id)),
    block: (userId) => signedIn(() => client.block(userId)),
    unblock: (userId) => signedIn(() => client.unblock(userId)),
    async blockedUsers() {
      const ids = await signedIn(() => client.blockedUsers());
      // Someone whose account is gone still shows, so they can be unblocked.
      return Promise.all(
        ids.map((id) =>
          http.user
            .getUser(id)
            .then(toUser, () => ({ id, username: '', displayName: 'Unknown user' })),
        ),
      );
    },
    report: (input) => signedIn(() => client.report(input)),
    getPrivacy: () => signedIn(() => client.privacy()),
    savePrivacy: (settings) => signedIn(() => client.setPrivacy(settings)),
    getPreferences: () => signedIn(() => http.notifications.preferences()),
    savePreferences: (p) =>
      signedIn(() =>
        http.notifications.savePreferences({
          email: p.email,
          digestDelayMinutes: p.digestDelayMinutes,
          digestContent: p.digestContent,
        }),
      ),

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return api;
}
