import {
  BackupLockedError,
  ChatClient,
  createIndexedDbStore,
  UntrustedIdentityError,
} from '@cipherchat/client';
import type { StoredMessage } from '@cipherchat/client';
import type { Me } from '@cipherchat/contracts';
import type {
  ChatApi,
  ChatEvent,
  ChatEventListener,
  MessageView,
  MeView,
  ResumeResult,
} from './chat-api.js';
import { ApiError, describeError } from './http.js';
import { withSerialisedRefresh } from './refresh-lock.js';
import { RestApi, toMe } from './rest-api.js';

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

/** A short, non-identifying label for this browser in the device list. */
function deviceLabel(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua)
    ? 'Firefox'
    : /Edg\//.test(ua)
      ? 'Edge'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chromium'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Mac OS X/.test(ua)
        ? 'macOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : 'unknown OS';
  return `${browser} on ${os}`;
}

/** The UI's view of a stored message; a failed send carries its reason, in words. */
function toView(m: StoredMessage): MessageView {
  return {
    id: m.id,
    conversationId: m.conversationId,
    senderUserId: m.senderUserId,
    direction: m.direction,
    kind: m.kind,
    ...(m.text !== undefined ? { text: m.text } : {}),
    ...(m.attachment
      ? {
          attachment: {
            id: m.attachment.id,
            contentType: m.attachment.contentType,
            size: m.attachment.size,
            ...(m.attachment.fileName ? { fileName: m.attachment.fileName } : {}),
          },
        }
      : {}),
    sentAt: m.sentAt,
    status: m.status,
    ...(m.failure ? { error: describeError(m.failure) } : {}),
  };
}

/**
 * Binds the UI's {@link ChatApi} to `@cipherchat/client`. This is the only file that knows the
 * SDK: Signal sessions, OPAQUE, key backup, attachment crypto and the sealed IndexedDB history
 * all live there. REST calls without crypto (directory, conversations, devices, preferences) go
 * through {@link RestApi}, parsed with the contracts schemas.
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
  // One refresh for the whole page: REST calls reuse the SDK's (deduplicated) refresh.
  const listeners = new Set<ChatEventListener>();
  const emit = (e: ChatEvent) => {
    for (const l of listeners) l(e);
  };
  const rest = new RestApi(
    () => client.api.refreshNow(),
    fetchImpl,
    () => {
      // Revoked elsewhere: close the socket and go back to the login screen. The sealed local
      // store stays, so logging in again on this browser reopens the same keys and history.
      if (!me) return;
      me = null;
      client.disconnect();
      emit({ type: 'sessionEnded', reason: 'revoked' });
    },
  );
  let me: MeView | null = null;

  client.on('message', (m) => {
    emit({ type: 'message', message: toView(m) });
    // This device has it: tell the sender (an encrypted "delivered" receipt).
    if (m.direction === 'in')
      void client.markDelivered(m.conversationId, [m.id]).catch(() => undefined);
  });
  client.on('receipt', (r) =>
    emit({
      type: 'status',
      conversationId: r.conversationId,
      messageIds: r.messageIds,
      status: r.type,
    }),
  );
  client.on('typing', (t) =>
    emit({ type: 'typing', conversationId: t.conversationId, userId: t.userId, on: t.on }),
  );
  client.on('presence', (p) =>
    emit({
      type: 'presence',
      userId: p.userId,
      online: p.online,
      ...(p.lastSeenAt ? { lastSeenAt: p.lastSeenAt } : {}),
    }),
  );
  client.on('identityChanged', (c) => emit({ type: 'identityChanged', userId: c.userId }));
  // The SDK's outgoing queue reports each outgoing message's progress (sending, sent, failed
  // with its reason); the reducer merges by id, so the send's own answer may come before or after.
  client.on('messageUpdated', (m) => emit({ type: 'message', message: toView(m) }));
  client.on('sendFailed', (f) => {
    if (f.error instanceof UntrustedIdentityError)
      emit({ type: 'identityChanged', userId: f.error.userId });
  });
  // The socket's own state drives the offline banner: a server outage with the network up
  // shows it too, and it clears only once the socket is connected again.
  client.on('connection', (c) => emit({ type: 'connection', online: c.online }));
  client.on('error', (err) => {
    // Background work (backup upload, prekey refill) failed; the SDK retries. Log the code only.
    console.warn('cipherchat: background task failed:', err instanceof Error ? err.name : 'error');
  });
  client.on('decryptFailed', (e) => {
    // Only the reason code and the sender's device: never content.
    console.warn(
      'cipherchat: a message could not be decrypted:',
      e.code,
      `from device ${e.senderDeviceId}`,
    );
  });

  // The socket reconnects by itself (with back-off); when the browser says the network is
  // back, nudge it now. The banner clears on the SDK's `connection` event, not on this one.
  window.addEventListener('online', () => {
    if (!me) return;
    if (client.connected) {
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
    return me;
  };

  const attachmentPointer = async (message: MessageView) => {
    const stored = await client.store.getMessage(message.id);
    if (!stored?.attachment)
      throw new ApiError('not_found', 'This attachment is not on this device.', 404);
    return stored.attachment;
  };

  const api: ChatApi = {
    async resume(): Promise<ResumeResult> {
      // The SDK reopens the sealed IndexedDB store with the session cookie, no password needed.
      try {
        const user = await client.resume();
        if (user) return { kind: 'active', me: started(user) };
      } catch {
        // Fall through: the session may be alive while this browser's keys are unusable.
      }
      // A live session but no usable local keys (e.g. wiped store): log in again to restore.
      try {
        return { kind: 'locked', me: await rest.me() };
      } catch {
        return { kind: 'none' };
      }
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
        if (err instanceof BackupLockedError) throw new ApiError('backup_locked', err.message, 0);
        throw err;
      }
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
    async logOut() {
      if (me) {
        await client.logOut({ forget: true });
      } else {
        await rest.logOut().catch(() => undefined);
      }
      me = null;
    },
    changePassword: (newPassword) => client.changePassword({ newPassword }),
    requestPasswordReset: (email) => client.requestPasswordReset(email),
    async resetPassword(token, newPassword) {
      await client.resetPassword({ token, newPassword });
    },
    verifyEmail: (token) => rest.verifyEmail(token),

    searchUsers: (q, c) => rest.searchUsers(q, c),
    getUser: (id) => rest.getUser(id),
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
      me = await rest.updateMe(p);
      return me;
    },

    listConversations: () => rest.listConversations(),
    async createConversation(kind, memberIds, title) {
      const c = await rest.createConversation(kind, memberIds, title);
      await client.getConversation(c.id, true).catch(() => undefined);
      return c;
    },
    async addMembers(id, userIds) {
      const c = await rest.addMembers(id, userIds);
      // The SDK caches member lists for fan-out: refresh it now rather than on the next event.
      await client.getConversation(id, true).catch(() => undefined);
      return c;
    },
    setMemberRole: (id, userId, role) => rest.setMemberRole(id, userId, role),
    async removeMember(id, userId) {
      const c = await rest.removeMember(id, userId, me?.id ?? '');
      if (userId !== me?.id) await client.getConversation(id, true).catch(() => undefined);
      return c;
    },

    async history(conversationId, { before, limit }) {
      const all = (await client.history(conversationId)).sort((a, b) => a.sentAt - b.sentAt);
      const older = before === undefined ? all : all.filter((m) => m.sentAt < before);
      return older.slice(-limit).map((m) => toView(m));
    },
    // Sends return once the message is queued (status "sending"); `messageUpdated` follows it.
    async sendText(conversationId, text) {
      return toView(await client.sendText(conversationId, text, { wait: false }));
    },
    async sendAttachment(conversationId, file) {
      // Only the upload needs the file: once uploaded, the queued message carries the pointer
      // and Retry resends it without the file. A failed upload throws and stores nothing.
      const bytes = new Uint8Array(await file.arrayBuffer());
      const m = await client.sendAttachment(
        conversationId,
        bytes,
        {
          contentType: file.type || 'application/octet-stream',
          ...(file.name ? { fileName: file.name } : {}),
        },
        { wait: false },
      );
      return toView(m);
    },
    async retry(message) {
      // The same message id goes back into the SDK's queue: no copy, nothing to hide.
      return toView(await client.retryMessage(message.id, { wait: false }));
    },
    async downloadAttachment(message) {
      const pointer = await attachmentPointer(message);
      const bytes = await client.downloadAttachment(pointer);
      return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: pointer.contentType });
    },
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
      const [devices, mine] = await Promise.all([
        rest.myDevices(),
        client.deviceId().catch(() => undefined),
      ]);
      return devices.map((d) => ({
        deviceId: d.deviceId,
        name: d.name,
        current: d.deviceId === mine,
        createdAt: d.createdAt,
      }));
    },
    logOutOtherDevices: () => rest.logOutOthers(),
    getPreferences: () => rest.preferences(),
    savePreferences: (p) => rest.savePreferences(p),

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return api;
}
