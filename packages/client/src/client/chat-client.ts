import type { Me, PrivacySettings, PublicUser, ReportBody } from '@cipherchat/contracts';
import type { AttachmentPointer, StoredMessage } from '../messages/message.schema.js';
import type { SafetyNumber } from '../protocol/fingerprint.js';
import type { SignalProtocol } from '../protocol/signal-protocol.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import type { ApiClient, Tokens } from '../transport/api-client.js';
import type { Conversation } from '../transport/chat-endpoints.js';
import type { IncomingEnvelope, OutgoingEnvelope } from '../transport/socket-client.js';
import type { LogInInput, ResetPasswordInput, SignUpInput } from './account.js';
import type { AttachmentMeta } from './attachment-transfer.js';
import type { TransferOptions } from '../transport/progress.js';
import { buildClientParts, type ClientParts } from './client-parts.js';
import { sendContent } from './compose.js';
import type { ChatClientEvents, ChatClientOptions, EmitFn, LogInResult, SendOptions } from './client-types.js';
import { deviceRecords } from './device-records.js';
import { Emitter } from './emitter.js';
import { mutedConversations, setMuted } from './mute.js';
import { cachedWhenUnreachable, offlineCache } from './offline-cache.js';
import { ApiError } from '../transport/api-error.js';
import type { OwnDevice } from './own-devices.js';
import { logOutParts, type LogOutOptions } from './log-out.js';
import type { Groups } from './groups.js';
import type { HistoryPages } from './history.js';
import type { MessageSearch } from './search.js';
export { BackupLockedError } from './client-types.js';
export type { LogInInput, ResetPasswordInput, SignUpInput } from './account.js';
export type { ChatClientEvents, ChatClientOptions, LogInResult, SendFailure, SendOptions } from './client-types.js';
export type { OwnDevice } from './own-devices.js';
export type { LogOutOptions } from './log-out.js';
/**
 * The headless chat client: account (OPAQUE), device keys, key backup, end-to-end encrypted
 * messaging with multi-device fan-out and a persisted outgoing queue, receipts, typing,
 * attachments and safety numbers. The web client, the CLI, the tests and the benchmark all
 * drive the product through it. This class only wires the parts (see docs/client.md) and
 * keeps the public API in one place.
 */
export class ChatClient extends Emitter<ChatClientEvents> {
  /** HTTP client (exposed for advanced callers and tests). */
  readonly api: ApiClient;
  private readonly parts: ClientParts;

  /** @param options endpoints, store factory, device name, retry policy */
  constructor(options: ChatClientOptions) {
    super();
    const emit: EmitFn = (event, ...args) => this.emit(event, ...args);
    this.parts = buildClientParts(options, emit, (envelope) => this.receive(envelope));
    this.api = this.parts.api;
  }

  /** @returns the logged-in user. @throws when logged out */
  get user(): Me { return this.parts.session.require().user; }

  /** @returns this device's id, once set up. */
  deviceId(): Promise<number | undefined> { return this.parts.deviceKeys.deviceId(); }

  /** @returns the local store (history, protocol state, outgoing queue) of the logged-in account. */
  get store(): ProtocolStore { return this.parts.session.require().store; }

  /** The Signal protocol layer of the logged-in account (diagnostics, tests, benchmarks). */
  get protocol(): SignalProtocol { return this.parts.session.require().protocol; }

  // ---------------------------------------------------------------- account (account.ts, account-session.ts)

  /**
   * Creates an account with OPAQUE (the password never leaves this process), logs in, creates
   * the identity and device keys, and uploads the first key backup.
   * @param input account fields and password
   * @returns the user and the recovery key: show it once (it alone keeps history keys after a reset)
   */
  signUp(input: SignUpInput): Promise<{ user: Me; recoveryKey: string }> {
    return this.parts.account.signUp(input);
  }

  /**
   * Logs in with OPAQUE, then opens the identity (local, else from the key backup, else new),
   * sets up this device, connects and resumes the outgoing queue.
   * @param input email, password and backup options (see {@link LogInInput})
   * @returns the user and where the identity came from
   * @throws {ApiError} `invalid_credentials`
   * @throws {BackupLockedError} the backup needs the recovery key
   */
  logIn(input: LogInInput): Promise<LogInResult> {
    return this.parts.account.logIn(input);
  }

  /**
   * Re-opens the account after a reload without the password (live session cookies or tokens,
   * and this device's local store from an earlier login); resumes the outgoing queue. With
   * `offlineAs` and the server unreachable, opens that account offline from the local store
   * ({@link offline}; docs/client.md "Offline"); {@link connect} completes it later.
   * @param input `connect: false` to skip the socket; `offlineAs`: the account last signed in here
   * @returns the user, or undefined when a full `logIn` is needed
   */
  async resume(input: { connect?: boolean; offlineAs?: string } = {}): Promise<Me | undefined> {
    const me = await this.parts.sessions.resume(input.offlineAs);
    if (!me) return undefined;
    if (this.offline) {
      await this.parts.queue.resume();
      return me;
    }
    if (input.connect !== false) await this.parts.realtime.connect();
    await this.parts.groups.migrateLegacy(this.connected).catch((err: unknown) => this.emit('error', err));
    await this.parts.queue.resume();
    return me;
  }

  /** @returns true while the session was opened without the server (read local, sends wait) */
  get offline(): boolean { return this.parts.session.current?.offline === true; }

  /**
   * Ends the session: disconnects, uploads pending backup state,
   * revokes the refresh token; `forget` wipes the local store, `removeDevice` first removes this
   * device from the account with its own proof (on failure nothing is logged out and it throws).
   * @param options `forget`, `removeDevice`
   * @returns whether this device was removed from the account
   */
  logOut(options: LogOutOptions = {}): Promise<{ deviceRemoved: boolean }> {
    return logOutParts(this.parts, options);
  }

  /** Changes the password (OPAQUE re-registration) and re-keys the backup (see {@link Account.changePassword}). */
  changePassword(input: { newPassword: string }): Promise<void> { return this.parts.account.changePassword(input); }

  /** @returns a new recovery key to show once; the backup is re-keyed, the old key opens nothing new */
  rotateRecoveryKey(): Promise<string> { return this.parts.account.rotateRecoveryKey(); }

  /** @param token from the emailed link: confirms the email address */
  verifyEmail(token: string): Promise<void> {
    return this.parts.account.verifyEmail(token);
  }

  /** @param email the account's address: asks for a password-reset email */
  requestPasswordReset(email: string): Promise<void> {
    return this.parts.account.requestPasswordReset(email);
  }

  /**
   * Sets a new password with the emailed token. With `email`, also logs in (see {@link Account.resetPassword}).
   * @param input token, new password, recovery key, email
   * @returns the login result when `email` was given
   */
  resetPassword(input: ResetPasswordInput): Promise<LogInResult | undefined> {
    return this.parts.account.resetPassword(input);
  }

  // ---------------------------------------------------------------- device keys (device-keys.ts)

  /** Registers this device once, uploads its keys, refills prekeys and rotates the signed prekey. */
  setupDevice(): Promise<void> { return this.parts.deviceKeys.setup(); }
  /** @returns my devices, named by their own end-to-end announcements, with `current` and `status` */
  devices(): Promise<OwnDevice[]> { return this.parts.ownDevices.list(); }
  /** Removes another device of mine (with this device's proof); re-queues what a foreign device held back. */
  removeDevice(deviceId: number): Promise<void> { return this.parts.ownDevices.remove(deviceId); }

  /** Uploads the key backup now (normally debounced). */
  flushBackup(): Promise<void> { return this.parts.session.require().backup.flush(); }
  /** @returns current tokens (bearer mode). */
  tokens(): Tokens | undefined { return this.api.getTokens(); }

  // ---------------------------------------------------------------- realtime (realtime.ts)

  /** Connects the socket and drains the mailbox; waiting sends are tried at once. An offline session is first completed with the server (like `resume`). @throws {ApiError} 401 `unauthorized` when it needs a full login */
  async connect(): Promise<void> {
    if (this.offline) {
      const me = await this.resume({ connect: false });
      if (!me) throw new ApiError(401, 'unauthorized', 'the session ended: log in again');
    }
    return this.parts.realtime.connect();
  }

  /** @returns whether the socket is connected right now */
  get connected(): boolean { return this.parts.realtime.connected; }

  /**
   * Current presence of users who share a conversation with me (`presence:get`).
   * @param userIds user ids (duplicates are ignored; asked in batches of 500)
   * @returns one entry per visible user
   * @throws {ApiError} `not_connected` without a socket; {@link SocketAckError} on a refused or timed-out ask
   */
  presence(userIds: string[]): Promise<{ userId: string; online: boolean; lastSeenAt?: string | null | undefined }[]> {
    return this.parts.realtime.presence(userIds);
  }

  /** Asks the server to deliver my mailbox again (e.g. after handling was interrupted). */
  async syncMailbox(): Promise<void> {
    await this.parts.realtime.require().syncMailbox();
  }

  /** Disconnects the socket (stays logged in; queued messages wait for the next connection). */
  disconnect(): void {
    this.parts.realtime.disconnect();
  }

  /** Tells the conversation I am typing (a padded E2EE message); sent only while every other member is online, else dropped (`receipts.ts`). @param conversationId conversation @param on typing or not */
  async setTyping(conversationId: string, on: boolean): Promise<void> {
    await this.parts.receipts.setTyping(conversationId, on);
  }

  // ---------------------------------------------------------------- conversations (conversations.ts)

  /**
   * Creates a conversation; a group goes through {@link Groups.create} (title end to end only).
   * @param input kind, other members, a group's title
   * @returns the conversation
   */
  async createConversation(input: { kind: 'direct' | 'group'; memberIds: string[]; title?: string }): Promise<Conversation> {
    const c = input.kind === 'group' ? await this.parts.groups.create(input) : await this.parts.conversations.create({ kind: input.kind, memberIds: input.memberIds });
    await offlineCache.changeConversation(this.store, c.id, () => c);
    void this.parts.avatars.shareWith(c.id).catch((err: unknown) => this.emit('error', err)); // my picture, if any
    return c;
  }

  /** @returns group operations, end to end (create, add, remove, leave, rename, role, views; docs/client.md "Groups") */
  get groups(): Groups {
    return this.parts.groups;
  }

  /** @returns profile pictures, end to end (`set`, `remove`, `image(userId)`; docs/client.md "Profile pictures") */
  get avatars(): ClientParts['avatars'] { return this.parts.avatars; }
  /** @returns decrypt-failure retries: placeholders (`pending`), counters (`stats`); docs/client.md "Decrypt failures and retries" */
  get retries(): ClientParts['retries'] { return this.parts.retries; }
  /** @returns reactions, edits, delete for everyone and for me (`react`, `edit`, `deleteForEveryone`, `deleteForMe`; docs/client.md) */
  get actions(): ClientParts['actions'] { return this.parts.actions; }

  /** @returns my conversations (not my self conversation); the last list seen while the server is unreachable */
  async listConversations(): Promise<Conversation[]> {
    const store = this.parts.session.require().store;
    const self = await deviceRecords.selfConversation(store);
    const list = await cachedWhenUnreachable(
      this.offline, () => this.parts.conversations.list(), (l) => offlineCache.saveConversations(store, l), () => offlineCache.conversations(store));
    return list.filter((c) => c.kind !== 'self' && c.id !== self);
  }

  /** @param userId someone @returns their directory entry; the last one seen while the server is unreachable */
  getUser(userId: string): Promise<PublicUser> {
    const store = this.parts.session.require().store;
    return cachedWhenUnreachable(this.offline, () => this.api.user.getUser(userId), (u) => offlineCache.saveUser(store, u), () => offlineCache.user(store, userId));
  }

  /** @param id conversation id @param refresh bypass the cache @returns the conversation */
  getConversation(id: string, refresh = false): Promise<Conversation> {
    return this.parts.conversations.get(id, refresh);
  }

  /** Directory lookup by username (exact match preferred). @param username handle @returns the user, if found */
  findUser(username: string): Promise<PublicUser | undefined> {
    return this.parts.conversations.findUser(username);
  }

  /** The whole local history of a conversation, oldest first (queued and failed sends included); pages: {@link messages}. @param conversationId conversation @returns messages */
  history(conversationId: string): Promise<StoredMessage[]> { return this.parts.session.require().store.listMessages(conversationId); }
  /** @returns local encrypted search over message text (`query`, `rebuild`, `prepare`; search.ts, docs/client.md "Local search") */
  get search(): MessageSearch { return this.parts.search; }
  /** @returns paged history and summaries over the history index (`latest`, `before`, `page`, `summary`, `markAllRead`; history.ts) */
  get messages(): HistoryPages { return this.parts.history; }

  /** Sets a chat's disappearing timer, end to end (docs/client.md "Disappearing messages"). @param conversationId chat @param seconds timer, null for off @param options `wait: false`: return once queued */
  setDisappearingTimer(conversationId: string, seconds: number | null, options: SendOptions = {}): Promise<void> { return this.parts.disappearing.set(conversationId, seconds, options); }
  /** @param conversationId chat @returns its disappearing timer in seconds (null: off), from my end-to-end state */
  disappearingTimer(conversationId: string): number | null { return this.parts.disappearing.timer(conversationId); }
  /** Deletes now what has expired (the sweeper does it by itself; event `messagesExpired`). */
  sweepExpired(): Promise<void> { return this.parts.disappearing.sweep(); }
  /** Mutes or unmutes a conversation on this device only (mute.ts). @param conversationId conversation @param on mute @returns the muted ids */
  setMuted(conversationId: string, on: boolean): Promise<string[]> { return setMuted(this.parts.session.require().store, conversationId, on); }
  /** @returns the conversations muted on this device (their unread count shows mentions of me only) */
  mutedConversations(): Promise<string[]> { return mutedConversations(this.parts.session.require().store); }

  // ---------------------------------------------------------------- requests, blocks, privacy (safety.ts)

  /** Accepts a message request (`myState` becomes `accepted`); its pictures download, mine goes to it, held retry requests go. @param conversationId conversation */
  async acceptRequest(conversationId: string): Promise<void> {
    await this.parts.safety.accept(conversationId);
    await offlineCache.changeConversation(this.store, conversationId, (c) => (c ? { ...c, myState: 'accepted' } : null));
    for (const p of [this.parts.avatars.accepted(conversationId), this.parts.retries.tick()]) void p.catch((err: unknown) => this.emit('error', err));
  }
  /** Declines a message request: it leaves my list, the sender is not told. @param conversationId conversation */
  async declineRequest(conversationId: string): Promise<void> {
    await this.parts.safety.decline(conversationId);
    await offlineCache.changeConversation(this.store, conversationId, () => null);
  }
  /** Blocks a person: the server drops their messages quietly; they get no presence, receipts or typing of mine. @param userId whom */
  block(userId: string): Promise<void> { return this.parts.safety.block(userId); }
  /** @param userId whom to unblock */
  unblock(userId: string): Promise<void> { return this.parts.safety.unblock(userId); }
  /** @returns the people I blocked, most recent first */
  blockedUsers(): Promise<string[]> { return this.parts.safety.blockedUsers(); }
  /** Reports a person to the operators (they are not told); `block` blocks them too. @param report who, why, note */
  report(report: ReportBody): Promise<void> { return this.parts.safety.report(report); }
  /** @returns what I share: read receipts, typing, last seen */
  privacy(): Promise<PrivacySettings> { return this.parts.safety.privacy(); }
  /** Saves what I share; this device applies it at once, my others at their next connection. @param settings all three @returns as stored */
  setPrivacy(settings: PrivacySettings): Promise<PrivacySettings> { return this.parts.safety.setPrivacy(settings); }

  // ---------------------------------------------------------------- sending (message-sender.ts, outgoing-queue.ts)

  /**
   * Sends a text message to every device of every member and to my other devices, through the
   * persisted outgoing queue.
   * @param conversationId conversation
   * @param text the text
   * @param options `wait: false` to return once queued; `replyTo` (a message id of my history) and `mentions` (user ids)
   * @returns the stored message (`sent`; `sending` with `wait: false`)
   * @throws {UntrustedIdentityError} a member's identity changed: accept it first (the message is `failed`)
   */
  sendText(conversationId: string, text: string, options: SendOptions = {}): Promise<StoredMessage> {
    return sendContent(this.parts, conversationId, { kind: 'text', text }, options);
  }

  /**
   * Checks the size against the server's limit (`AttachmentTooLargeError` before anything is
   * encrypted or sent), encrypts with a fresh key, uploads (progress, cancel) and queues pointer,
   * key, digest, thumbnail inside an E2EE message. A failed upload throws and stores nothing.
   * @param conversationId conversation
   * @param data file bytes
   * @param meta content type, file name, caption, thumbnail, voice
   * @param options `wait`, `replyTo`, `mentions` as for texts; `onProgress`, `signal` for the upload
   * @returns the stored message
   */
  async sendAttachment(conversationId: string, data: Uint8Array, meta: AttachmentMeta, options: SendOptions & TransferOptions = {}): Promise<StoredMessage> {
    const attachment = await this.parts.attachments.upload(conversationId, data, meta, options);
    return sendContent(this.parts, conversationId, { kind: 'attachment', attachment, ...(meta.caption ? { text: meta.caption } : {}) }, options);
  }

  /** @returns the largest file the server accepts, in bytes (`GET /api/chat/config`, asked once) */
  maxAttachmentBytes(): Promise<number> { return this.parts.attachments.maxFileBytes(); }

  /**
   * Diagnostics and adversarial tests: sends a text, passing the envelopes through `mutate` just
   * before they leave (to replay, re-address or corrupt them as a malicious server could).
   * @param conversationId conversation
   * @param text the text
   * @param mutate rewrites the envelopes
   * @returns the stored message
   */
  sendTextWithEnvelopes(
    conversationId: string,
    text: string,
    mutate: (envelopes: OutgoingEnvelope[]) => OutgoingEnvelope[],
  ): Promise<StoredMessage> {
    return sendContent(this.parts, conversationId, { kind: 'text', text }, {}, mutate);
  }

  /**
   * Puts a `failed` outgoing message back into the queue under the same id (the Retry button).
   * @param messageId client message id
   * @param options `wait: false` to return as soon as it is queued
   * @returns the message (`sent`; `sending` with `wait: false`)
   */
  retryMessage(messageId: string, options: SendOptions = {}): Promise<StoredMessage> {
    return this.parts.queue.retry(messageId, options);
  }

  /**
   * The file of an attachment: from the local media cache, else downloaded (progress, cancel),
   * digest-checked, decrypted and cached.
   * @throws {AttachmentIntegrityError} digest mismatch or bad ciphertext
   */
  downloadAttachment(pointer: AttachmentPointer, options: TransferOptions = {}): Promise<Uint8Array> {
    return this.parts.attachments.download(pointer, options);
  }

  /** Marks messages read and sends an encrypted read receipt (held while a member is offline, `receipts.ts`). @param conversationId conversation @param messageIds client message ids */
  markRead(conversationId: string, messageIds: string[]): Promise<void> {
    return this.parts.receipts.markRead(conversationId, messageIds);
  }

  /** Sends an encrypted "delivered" receipt (held like read ones). @param conversationId conversation @param messageIds client message ids */
  markDelivered(conversationId: string, messageIds: string[]): Promise<void> {
    return this.parts.receipts.markDelivered(conversationId, messageIds);
  }

  // ---------------------------------------------------------------- receiving (message-receiver.ts)

  /** Handles one `message:new` (tests inject envelopes here); one at a time, in arrival order. @param envelope the server event */
  receive(envelope: IncomingEnvelope): Promise<void> {
    return this.parts.receiver.receive(envelope);
  }

  // ---------------------------------------------------------------- identities (identities.ts)

  /** The safety number with a contact (60 digits and QR payload); fetches their key if unknown. @param userId contact @returns safety number */
  safetyNumber(userId: string): Promise<SafetyNumber> {
    return this.parts.identities.safetyNumber(userId);
  }

  /** @param userId contact @returns trust state of the contact's identity key */
  identityStatus(userId: string): Promise<'trusted' | 'verified' | 'untrusted' | 'unknown'> {
    return this.parts.identities.status(userId);
  }

  /** Accepts a contact's changed identity key: unblocks sending and processes held messages. @param userId contact */
  acceptIdentity(userId: string): Promise<void> {
    return this.parts.identities.accept(userId);
  }

  /** Marks a contact's key verified after comparing safety numbers. @param userId contact */
  markVerified(userId: string): Promise<void> {
    return this.parts.identities.markVerified(userId);
  }
}
