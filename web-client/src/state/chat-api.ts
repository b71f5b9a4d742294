/**
 * The one interface the UI talks to. Everything cryptographic (Signal sessions, key backup,
 * attachment encryption, the local history store) lives in `@cipherchat/client`; this file only
 * names what the screens need, so swapping or upgrading the SDK touches `sdk-adapter.ts` alone.
 */
import type { HistoryApi } from './history-api.js';
import type { AvatarApi } from './avatars.js';
import type { SearchApi } from './search-api.js';
import type { RetryApi } from './retries.js';
import type { MessageActionsApi, MessageChangeFields } from './message-actions.js';
import type { AttachmentView, FileTransfer } from './attachment-api.js';

/** The signed-in user as the UI shows them. */
export interface MeView {
  id: string;
  username: string;
  displayName: string;
  email: string;
  emailVerified: boolean;
}

/** Another user as the directory shows them (never their email). */
export interface UserView {
  id: string;
  username: string;
  displayName: string;
}

/** A member of a conversation. */
export interface MemberView {
  userId: string;
  role: 'owner' | 'admin' | 'member';
}

/** A conversation I belong to. */
export interface ConversationView {
  id: string;
  kind: 'direct' | 'group' | 'self';
  /** A group's end-to-end title, from my own view of the group (the server keeps none). */
  title: string | null;
  /** A group's members and roles from my own view (the server's list only routes). */
  members: MemberView[];
  createdAt: string;
  /** A group whose state no member has sent me yet: nothing can be sent until it arrives. */
  pending?: boolean;
  /** Still on screen, but the server no longer lists me in it (removed, or I left). */
  left?: boolean;
  /**
   * `request`: someone I never talked to started it, and I have not accepted yet (they get no
   * presence, typing or read receipts of mine; their attachments are not fetched by themselves).
   * Absent means accepted.
   */
  myState?: 'accepted' | 'request';
  /** Disappearing-message timer in seconds, from my end-to-end state (absent: off). */
  disappearingS?: number;
  /**
   * A group: what I may do in it, as the SDK's group rules decide from my view (the UI disables
   * what is not listed). Absent for other kinds.
   */
  permissions?: GroupPermissionsView;
}

/** What I may do in a group (SDK's `groupPermissions`), as plain data. */
export interface GroupPermissionsView {
  rename: boolean;
  add: boolean;
  leave: boolean;
  /** Members I may remove. */
  remove: string[];
  /** Members whose role (admin / member) I may change. */
  setRole: string[];
}

/** What I share with others (chat-service's privacy settings). */
export type PrivacyView = import('@cipherchat/contracts').PrivacySettings;

/** A report to the operators about someone (they are not told). */
export interface ReportInput {
  userId: string;
  conversationId?: string;
  reason: 'spam' | 'abuse' | 'other';
  note?: string;
  /** Also block them. */
  block?: boolean;
}

/** A membership or settings change shown as a line in the chat ("Carol added Dan"). */
export interface GroupEventView {
  type: 'created' | 'added' | 'removed' | 'left' | 'renamed' | 'role' | 'timer';
  actorUserId: string;
  userIds?: string[];
  title?: string | null;
  role?: 'admin' | 'member';
  /** The new disappearing timer in seconds, null when turned off (timer). */
  timerS?: number | null;
}

/** Delivery state of a message; `received` is an incoming message I have not read yet. */
export type MessageStatus = 'sending' | 'sent' | 'delivered' | 'read' | 'received' | 'failed';

export type { AttachmentView, FileTransfer, ThumbnailView, TransferProgress } from './attachment-api.js';

/** One message of the local (decrypted) history. */
export interface MessageView extends MessageChangeFields {
  id: string;
  conversationId: string;
  senderUserId: string;
  direction: 'in' | 'out';
  /** `unsupported`: a kind this version does not know (shown as "needs a newer version"). */
  kind: 'text' | 'attachment' | 'event' | 'unsupported';
  text?: string;
  /**
   * What this version did not understand: a whole message of an unknown kind (with the
   * sender's fallback text, if any), or some of its fields (the rest is shown).
   */
  newer?: { whole: boolean; fallback?: string };
  /** The message this one replies to: its id, author and the start of its text. */
  replyTo?: { id: string; authorUserId: string; excerpt: string };
  /** Members mentioned in the text (user ids). */
  mentions?: string[];
  /** The membership change (kind `event`). */
  event?: GroupEventView;
  attachment?: AttachmentView;
  /** Sender's clock, epoch milliseconds (history is ordered by it). */
  sentAt: number;
  status: MessageStatus;
  /** My message: the other members who read it (user ids, in the order their receipts came). */
  readBy?: string[];
  /** My message: the other members one of whose devices has it. */
  deliveredTo?: string[];
  /** Why the last send attempt failed (status `failed`). */
  error?: string;
}

/** What a send may carry besides its content. */
export interface SendExtras {
  /** Id of the message this one replies to (in this browser's history). */
  replyTo?: string;
  /** User ids of the members mentioned. */
  mentions?: string[];
}

/** Safety number of a contact, as the security screen shows it. */
export interface SafetyNumberView {
  /** 60 digits. */
  digits: string;
  /** Payload to encode in the QR code. */
  qrPayload: string;
  /** True once I marked this contact's current identity key verified. */
  verified: boolean;
}

/** Someone's presence: online now, or when any of their devices was last connected. */
export interface PresenceView {
  userId: string;
  online: boolean;
  /** ISO 8601; absent when never seen. */
  lastSeenAt?: string;
}

/** One of my devices. */
export interface DeviceView {
  deviceId: number;
  /** Its name from its own end-to-end announcement (the server keeps none); absent if never announced. */
  name?: string;
  current: boolean;
  createdAt?: string;
  /** The hour it last connected or proved itself (ISO 8601, coarse on purpose); absent when unknown. */
  lastActiveAt?: string;
  /**
   * `linked`: this browser, or announced to me by a device holding my identity key;
   * `foreign`: carries another identity key (did not come from me; gets nothing);
   * `unknown`: never announced to this browser.
   */
  status: 'linked' | 'unknown' | 'foreign';
}

/** A device on my account that did not come from me (another identity key). */
export interface ForeignDeviceView {
  deviceId: number;
  /** When the server says it was added (ISO 8601). */
  createdAt: string;
}

/** What the device alerts show: foreign devices, and whether this browser must be linked again. */
export interface DeviceAlerts {
  foreign: ForeignDeviceView[];
  /** This browser was removed from the account and the server wants the password to link it again. */
  needsLogin: boolean;
}

/** Email notification preferences, exactly as notification-service presents them. */
export type NotificationPreferences = import('@cipherchat/contracts').NotificationPreferences;

/** Events the UI reacts to. */
export type ChatEvent =
  | { type: 'message'; message: MessageView; arrival?: true } // arrival: just received
  | {
      type: 'status';
      conversationId: string;
      messageIds: string[];
      status: MessageStatus;
      error?: string;
    }
  | { type: 'typing'; conversationId: string; userId: string; on: boolean }
  | { type: 'presence'; userId: string; online: boolean; lastSeenAt?: string }
  | { type: 'identityChanged'; userId: string }
  /** My privacy settings changed (on this or another device of mine); they already apply. */
  | { type: 'privacyChanged'; settings: PrivacyView }
  | { type: 'connection'; online: boolean }
  | { type: 'conversationsChanged' }
  /** The server lists people no member added: nothing was sent to them (the send failed). */
  | { type: 'membershipWarning'; conversationId: string; userIds: string[] }
  /** Disappearing messages whose time ran out: gone from this browser's store; remove them. */
  | { type: 'messagesExpired'; conversationId: string; messageIds: string[] }
  | { type: 'sessionEnded'; reason: string }
  | { type: 'foreignDevice'; deviceId: number; createdAt: string }
  | { type: 'deviceLinked'; deviceId: number; name: string; linkedAt: number }
  | { type: 'deviceRemoved'; needsLogin: boolean }
  /** The server's key backup was refused (older copy, altered, or re-keyed elsewhere). */
  | { type: 'backupRefused'; code: string; message: string }
  /** The server dropped group messages for this browser while it was offline (its mailbox was full). */
  | { type: 'messagesMissed'; count: number }
  | { type: 'messageRemoved'; conversationId: string; messageId: string };

/** Listener for {@link ChatEvent}s. */
export type ChatEventListener = (event: ChatEvent) => void;

/** Result of {@link ChatApi.resume}. */
export type ResumeResult =
  { kind: 'active'; me: MeView } | { kind: 'locked'; me: MeView } | { kind: 'none' };

/** Sign-up input. */
export interface SignUpInput {
  email: string;
  username: string;
  displayName: string;
  password: string;
}

/** What the UI needs from the SDK and the REST services. */
export interface ChatApi extends MessageActionsApi, HistoryApi, AvatarApi, SearchApi, RetryApi {
  /**
   * What to show after a (re)load: an open session, a session whose keys are locked on this
   * browser (log in again with the password to unlock; nothing secret is kept in clear between
   * page loads), or nobody.
   */
  resume(): Promise<ResumeResult>;
  /** Creates the account and this device; the recovery key is shown once and never stored. */
  signUp(input: SignUpInput): Promise<{ me: MeView; recoveryKey: string }>;
  /**
   * Logs in; on a new browser this restores keys from the backup. Throws an error with code
   * `backup_locked` when the backup was sealed under an older password (after a reset): call
   * again with the recovery key, or with `startFresh` to begin a new identity.
   * @returns me, and a new recovery key when a new identity was created (show it once)
   */
  logIn(
    email: string,
    password: string,
    options?: { recoveryKey?: string; startFresh?: boolean },
  ): Promise<{ me: MeView; recoveryKey?: string }>;
  /** True when the server holds a backup of every local key change. */
  isBackupUpToDate(): Promise<boolean>;
  /** Pushes the key backup now. */
  backupNow(): Promise<void>;
  /** How many of my messages are still queued on this browser (logging out deletes them). */
  unsentCount(): Promise<number>;
  /**
   * Logs out. By default this browser's device is first removed from the account (with its
   * proof) and its keys and history are wiped; `keepDevice` keeps both for the next login here.
   * Throws, still logged in, when the device could not be removed (server unreachable).
   */
  logOut(options?: { keepDevice?: boolean }): Promise<void>;
  /** Changes the password (re-keys the key backup; the recovery key keeps working). */
  changePassword(newPassword: string): Promise<void>;
  /** Replaces the recovery key (re-keys the backup; the old key stops working); returns the new key. */
  rotateRecoveryKey(): Promise<string>;
  /** Asks for a password-reset email. */
  requestPasswordReset(email: string): Promise<void>;
  /**
   * Finishes a reset from the emailed link (OPAQUE re-registration). The next login asks for the
   * recovery key to keep the identity, or starts a new one.
   */
  resetPassword(token: string, newPassword: string): Promise<void>;
  /** Confirms the email address from the emailed link. */
  verifyEmail(token: string): Promise<void>;

  /** Directory search. */
  searchUsers(
    query: string,
    cursor?: string | null,
  ): Promise<{ users: UserView[]; nextCursor: string | null }>;
  /** One user by id. */
  getUser(userId: string): Promise<UserView>;
  /**
   * Current presence of users. The server only tells about people who share a conversation with
   * me; the others are missing from the answer (their presence stays unknown).
   * @param userIds whom to ask about
   * @returns one entry per user the server told about
   */
  presence(userIds: string[]): Promise<PresenceView[]>;
  /** Updates my profile. */
  updateProfile(patch: { displayName?: string; username?: string }): Promise<MeView>;

  /** Conversations I belong to. */
  listConversations(): Promise<ConversationView[]>;
  /** Creates a direct chat (or returns the existing one) or a group. */
  createConversation(
    kind: 'direct' | 'group',
    memberIds: string[],
    title?: string,
  ): Promise<ConversationView>;
  /** Adds members to a group. */
  addMembers(conversationId: string, userIds: string[]): Promise<ConversationView>;
  /** Makes a group member an admin or a plain member (owner only). */
  setMemberRole(
    conversationId: string,
    userId: string,
    role: 'admin' | 'member',
  ): Promise<ConversationView>;
  /** Removes a member from a group (or leaves it when it is me). */
  removeMember(conversationId: string, userId: string): Promise<ConversationView>;
  /** Renames a group, end to end (owners and admins; empty clears the title). */
  renameGroup(conversationId: string, title: string): Promise<ConversationView>;
  /**
   * Sets a chat's disappearing timer end to end (either member of a direct chat; owners and
   * admins of a group); null turns it off. The chat shows the change as an event line.
   */
  setDisappearingTimer(conversationId: string, seconds: number | null): Promise<ConversationView>;

  /**
   * Encrypts and sends a text; resolves with the local message (status tells the outcome).
   * `extra`: the message it replies to (by id) and the members it mentions.
   */
  sendText(conversationId: string, text: string, extra?: SendExtras): Promise<MessageView>;
  /** Checks the server's limit, makes an image's thumbnail, encrypts and uploads (progress, cancel), then sends the pointer. */
  sendAttachment(conversationId: string, file: File, extra?: SendExtras, transfer?: FileTransfer): Promise<MessageView>;
  /** The largest file the server accepts, in bytes. */
  maxAttachmentBytes(): Promise<number>;
  /** Conversations muted in this browser (their unread count shows mentions of me only). */
  mutedConversations(): Promise<string[]>;
  /** Mutes or unmutes a conversation in this browser only. */
  setMuted(conversationId: string, on: boolean): Promise<void>;
  /** Sends a failed message again. */
  retry(message: MessageView): Promise<MessageView>;
  /** Downloads (once: then from the local cache), verifies and decrypts an attachment. */
  downloadAttachment(message: MessageView, transfer?: FileTransfer): Promise<Blob>;
  /** Marks incoming messages read (sends read receipts). */
  markRead(conversationId: string, messageIds: string[]): Promise<void>;
  /** Tells the others in a conversation that I am typing (or stopped). */
  setTyping(conversationId: string, on: boolean): void;

  /** Safety number with a contact. */
  safetyNumber(userId: string): Promise<SafetyNumberView>;
  /** Marks a contact's current identity key as verified. */
  markVerified(userId: string): Promise<void>;
  /** Verified state of contacts I have sessions with. */
  verifiedUsers(): Promise<Set<string>>;
  /** Contacts whose identity changed and who are blocked until I accept. */
  pendingIdentityChanges(): Promise<Set<string>>;
  /** Accepts a contact's new identity key (unblocks sending; clears "verified"). */
  acceptIdentity(userId: string): Promise<void>;

  /** My devices, named by their own end-to-end announcements. */
  listDevices(): Promise<DeviceView[]>;
  /**
   * Removes another device of my account. Messages held back by a foreign device are sent
   * again afterwards.
   */
  removeDevice(deviceId: number): Promise<void>;
  /** Current device alerts (also checked against my device list on load). */
  deviceAlerts(): Promise<DeviceAlerts>;
  /** Links this browser again after it was removed (password; history kept). */
  relinkDevice(password: string): Promise<void>;
  /** Revokes every other session of my account. */
  logOutOtherDevices(): Promise<void>;

  /** Accepts a message request: it becomes a normal conversation. */
  acceptRequest(conversationId: string): Promise<void>;
  /** Declines a message request: it leaves my list; the sender is not told. */
  declineRequest(conversationId: string): Promise<void>;
  /** Blocks someone: their messages stop reaching me and they no longer see my presence. */
  block(userId: string): Promise<void>;
  /** Unblocks someone. */
  unblock(userId: string): Promise<void>;
  /** The people I blocked, most recent first. */
  blockedUsers(): Promise<UserView[]>;
  /** Reports someone to the operators (and blocks them with `block`). */
  report(input: ReportInput): Promise<void>;
  /** What I share: read receipts, typing, last seen. */
  getPrivacy(): Promise<PrivacyView>;
  /** Saves what I share (applies to this browser at once). */
  savePrivacy(settings: PrivacyView): Promise<PrivacyView>;

  /** Email notification preferences. */
  getPreferences(): Promise<NotificationPreferences>;
  /** Saves email notification preferences. */
  savePreferences(prefs: NotificationPreferences): Promise<NotificationPreferences>;
  /** Subscribes to events; returns the unsubscribe function. */
  subscribe(listener: ChatEventListener): () => void;
}
