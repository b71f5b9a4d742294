import type { Readable } from 'node:stream';
import type {
  ConversationKind,
  ConversationRole,
  MessageNew,
  ServerToClientEvents,
} from '@cipherchat/contracts';
import type { StoredMembershipState } from './safety-port.js';

// Ports: what the use cases need from the outside, in their terms. store/ implements the
// repository ports, realtime/ the notifier and presence, app.ts wires them (see ChatDeps).

/**
 * A database handle as the use cases see it: the pool outside a transaction, or a
 * transaction's handle inside `transact`. Opaque here; use cases only pass it to the store.
 */
export type Db = object;

/**
 * Runs `work` in one transaction (committed when it resolves, rolled back when it throws).
 * @param work the transactional part of a use case
 * @returns what `work` returned
 */
export type Transact = <T>(work: (tx: Db) => Promise<T>) => Promise<T>;

/** Logging, the two levels use cases write. */
export interface Log {
  /** Something worth recording happened. */
  info(fields: object, message: string): void;
  /** Something went wrong but the use case carries on. */
  warn(fields: object, message: string): void;
}

// ---------------------------------------------------------------------------------- delivery

/** Live sockets by user, then device: socket ids. */
export type LiveSockets = Map<string, Map<number, string[]>>;

/** One envelope of a stored message, addressed to one device, ready to emit. */
export interface OutgoingEnvelope {
  /** Recipient user. */
  userId: string;
  /** Recipient device. */
  deviceId: number;
  /** The `message:new` payload for that device. */
  message: MessageNew;
}

/**
 * Pushes server events to connected devices (implemented by realtime/, across processes).
 * Nothing here waits: delivery is best effort, the mailbox is the durable path.
 */
export interface Notifier {
  /**
   * Emits an event to every connected device of some users.
   * @param userIds recipients (none: nothing happens)
   * @param event server event name
   * @param args its payload
   */
  notifyUsers<E extends keyof ServerToClientEvents>(
    userIds: readonly string[],
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void;
  /**
   * Emits a stored message's envelopes, each to its device's room.
   * @param envelopes one per addressed device
   * @param live what presence said of the recipients' sockets shortly before the write, or null
   *   when that is unknown or too old to rely on
   * @returns when the emits for other processes reached Redis (or failed, or a short bound
   *   passed): the send is acked only then
   */
  deliver(envelopes: readonly OutgoingEnvelope[], live: LiveSockets | null): Promise<void>;
  /**
   * Emits an event to every connected socket of one device.
   * @param userId the device's user
   * @param deviceId the device
   * @param event server event name
   * @param args its payload
   */
  notifyDevice<E extends keyof ServerToClientEvents>(
    userId: string,
    deviceId: number,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void;
  /** Disconnects every socket of one device (device removed). */
  disconnectDevice(userId: string, deviceId: number): void;
  /** Disconnects every socket of a user (account deleted). */
  disconnectUser(userId: string): void;
}

/** Who is online (implemented by realtime/presence.ts over Redis). */
export interface PresenceLookup {
  /**
   * Live sockets of some users, reusing a lookup of this process at most `maxAgeMs` old.
   * @returns the sockets and when (performance.now()) they were looked up
   */
  recentLiveSockets(
    userIds: readonly string[],
    maxAgeMs: number,
  ): Promise<{ live: LiveSockets; lookedUpAt: number }>;
  /** Online state and last-seen time of each user. */
  describe(
    userIds: readonly string[],
  ): Promise<{ userId: string; online: boolean; lastSeenAt: string | null }[]>;
}

/** Publishes committed outbox rows now (the relay would otherwise find them on its next poll). */
export interface OutboxKick {
  /** Wakes the relay. */
  kick(): void;
}

// ---------------------------------------------------------------------------------- messages

/** A message ready to store. */
export interface StoreMessageInput {
  messageId: string;
  conversationId: string;
  senderUserId: string;
  senderDeviceId: number;
  clientMessageId: string;
  serverTs: Date;
  /** `live`: the device had a connected socket when the send began (its dropped envelopes are not held against its cap: it would have acked a stored one at once). */
  envelopes: { userId: string; deviceId: number; type: number; body: Buffer; live?: boolean }[];
  /** `chat.message_queued.v1` outbox rows (already validated payloads) for offline recipients. */
  queuedEvents: { id: string; payload: string }[];
  /** Recipients those events are for (marked so a later drain publishes `chat.mailbox_drained.v1`). */
  queuedUsers: string[];
  /**
   * Set by the writer when the message is stored: the recipients nothing was stored for (they
   * blocked the sender or declined the conversation), so that nothing is delivered to them live.
   */
  withheld?: string[];
}

/**
 * What became of one message: `stored`; `duplicate` (its `(sender, clientMessageId)` already
 * existed); `refused` (the sender or a recipient was not a member, or the envelopes did not
 * address exactly the conversation's devices: nothing of it was stored); `mailbox_full` (it
 * would overfill a recipient device's mailbox, or spend more than a request budget left: nothing
 * of it was stored).
 */
export type WriteOutcome = 'stored' | 'duplicate' | 'refused' | 'mailbox_full';

/** Stores messages (store/message.writer.ts batches them; the statement enforces the send's rules). */
export interface MessageWrites {
  /**
   * Queues a message for storage (synchronously: call order is write order per conversation).
   * @returns the outcome, once committed
   */
  write(input: StoreMessageInput): Promise<WriteOutcome>;
}

/** What `message:send` needs to know to explain a refusal: an earlier copy, and the device set. */
export interface SendContext {
  /** The message already stored under this (sender, clientMessageId), if any. */
  existing: { messageId: string; conversationId: string; serverTs: Date } | null;
  /** Every member's user id (empty when the conversation does not exist). */
  members: string[];
  /** Every keyed device of every member. */
  devices: { userId: string; deviceId: number }[];
  /** The conversation's kind (null when it does not exist). */
  kind: ConversationKind | null;
}

/** One device's ack. */
export interface AckRequest {
  userId: string;
  deviceId: number;
  messageIds: string[];
  /** The `chat.mailbox_drained.v1` outbox row to write if this empties the device's mailbox. */
  drained: { id: string; payload: string };
}

/** Deletes acked envelopes (store/mailbox.repository.ts, batched in app.ts). */
export interface AckWrites {
  /** @returns rows deleted and whether the drained event was recorded */
  call(req: AckRequest): Promise<{ deleted: number; drainedRecorded: boolean }>;
}

/** One stored envelope, as drained. */
export interface MailboxRow {
  seq: string;
  messageId: string;
  conversationId: string;
  senderUserId: string;
  senderDeviceId: number;
  type: number;
  body: Buffer;
  serverTs: Date;
}

/** The mailbox reads and housekeeping (store/mailbox.repository.ts). */
export interface MailboxStore {
  /** Dedupe lookup plus members and keyed devices, for a send the write refused. */
  loadSendContext(
    db: Db,
    senderUserId: string,
    clientMessageId: string,
    conversationId: string,
  ): Promise<SendContext>;
  /** A device's mailbox in `seq` order after a cursor, optionally within [since, until). */
  readMailbox(
    db: Db,
    userId: string,
    deviceId: number,
    afterSeq: string,
    limit: number,
    since?: Date,
    until?: Date,
  ): Promise<MailboxRow[]>;
  /** Deletes envelopes and dedupe rows older than `before` in batches; returns mailbox rows deleted. */
  expireMailbox(db: Db, before: Date): Promise<number>;
  /** Deletes the request budgets whose window started before `before`; returns rows deleted. */
  expireRequestBudgets(db: Db, before: Date): Promise<number>;
  /** After a complete drain: resets the device's tally of dropped envelopes; returns the group envelopes it missed (its mailbox was full). */
  takeDropped(db: Db, userId: string, deviceId: number): Promise<number>;
}

// ----------------------------------------------------------------------------- conversations

/** A conversation with its members, as stored. */
export interface ConversationRow {
  id: string;
  kind: ConversationKind;
  title: string | null;
  /** Each member with their standing (`request` until they accept a stranger's conversation). */
  members: {
    userId: string;
    role: ConversationRole;
    joinedAt: string;
    state: StoredMembershipState;
  }[];
  createdAt: Date;
  updatedAt: Date;
}

/** Conversations and memberships (store/conversation.repository.ts, store/membership.repository.ts). */
export interface ConversationStore {
  createDirect(
    tx: Db,
    id: string,
    key: string,
    creator: string,
    other: string,
  ): Promise<{ id: string; created: boolean }>;
  createGroup(tx: Db, id: string, creator: string, others: string[]): Promise<void>;
  /** The user's self conversation, created unless it exists (unique per user). */
  createSelf(tx: Db, id: string, userId: string): Promise<{ id: string; created: boolean }>;
  findForMember(db: Db, id: string, userId: string): Promise<ConversationRow | null>;
  listForMember(
    db: Db,
    userId: string,
    limit?: number,
    after?: { updatedAt: Date; id: string },
  ): Promise<ConversationRow[]>;
  roleOf(db: Db, id: string, userId: string): Promise<ConversationRole | null>;
  /** Kind and member count; locks the conversation row (serialises member changes). */
  conversationInfo(tx: Db, id: string): Promise<{ kind: ConversationKind; members: number } | null>;
  addMembers(tx: Db, id: string, userIds: string[]): Promise<string[]>;
  removeMember(tx: Db, id: string, userId: string): Promise<void>;
  setRole(tx: Db, id: string, userId: string, role: ConversationRole): Promise<boolean>;
  /** Clears a group's legacy title. */
  clearTitle(tx: Db, id: string): Promise<void>;
  /** Everyone who shares a conversation with the user. */
  contactsOf(db: Db, userId: string): Promise<string[]>;
  /** Those of `others` who share a conversation with the user (or are the user). */
  sharedWith(db: Db, userId: string, others: string[]): Promise<string[]>;
  memberIds(db: Db, id: string): Promise<string[]>;
  /** Those of `userIds` whose account was deleted. */
  deletedAmong(db: Db, userIds: string[]): Promise<string[]>;
}

export type { SafetyStore, StoredMembershipState } from './safety-port.js';

// ---------------------------------------------------------------------------------- devices

/** A device as its owner sees it. */
export interface DeviceRow {
  deviceId: number;
  hasKeys: boolean;
  createdAt: Date;
  /** The hour it last connected or proved itself (null: not since this was recorded). */
  lastActiveAt: Date | null;
}

/** Keys of one device, decoded from the upload. */
export interface DeviceKeys {
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  preKeys: { keyId: number; publicKey: Buffer }[];
}

/** One device entry of a bundle answer (bytes still raw). */
export interface BundleRow {
  deviceId: number;
  registrationId: number;
  signedPreKeyId: number;
  signedPreKey: Buffer;
  signature: Buffer;
  preKeyId: number | null;
  preKey: Buffer | null;
  /** One-time prekeys the device holds after this fetch. */
  preKeysLeft: number;
}

/** Devices and their keys (store/device.repository.ts). */
export interface DeviceStore {
  insertDevice(
    tx: Db,
    userId: string,
    secretDigest: Buffer,
    maxDevices: number,
  ): Promise<number | null>;
  deleteDevice(tx: Db, userId: string, deviceId: number): Promise<boolean>;
  /** SHA-256 of the device's secret, or null when the user has no such device. */
  deviceSecretDigest(db: Db, userId: string, deviceId: number): Promise<Buffer | null>;
  listDevices(db: Db, userId: string): Promise<DeviceRow[]>;
  /** Marks a device active this hour (at most one write per device and hour). */
  touchDevice(db: Db, userId: string, deviceId: number): Promise<void>;
  listKeyedDeviceIds(db: Db, userId: string): Promise<number[]>;
  storeDeviceKeys(
    tx: Db,
    userId: string,
    deviceId: number,
    keys: DeviceKeys,
    maxPreKeys: number,
  ): Promise<'not_found' | 'too_many_prekeys' | { identityChanged: boolean }>;
  countPreKeys(db: Db, userId: string, deviceId: number): Promise<number>;
  /** One bundle per keyed device, consuming a one-time prekey of each unless `consume` is false (signed prekey only). */
  takeBundles(
    db: Db,
    userId: string,
    consume?: boolean,
  ): Promise<{ identityKey: Buffer | null; devices: BundleRow[] }>;
}

// ------------------------------------------------------------------- backups, accounts, blobs

/** The wrapped key backup (store/backup.repository.ts). */
export interface BackupStore {
  /** Stores only if `version` is the stored version + 1. */
  putBackup(
    db: Db,
    userId: string,
    version: number,
    blob: Buffer,
  ): Promise<{ ok: true } | { ok: false; currentVersion: number }>;
  getBackup(db: Db, userId: string): Promise<{ version: number; blob: Buffer } | null>;
}

/** Deleted accounts (store/user-data.repository.ts). */
export interface AccountStore {
  isDeletedUser(db: Db, userId: string): Promise<boolean>;
  /** Forgets everything of a deleted user; must run in a transaction. */
  forgetUser(tx: Db, userId: string): Promise<void>;
}

/** A stored attachment's metadata. */
export interface AttachmentRow {
  id: string;
  ownerUserId: string;
  conversationId: string;
  size: number;
  storage: 'local' | 'cloudinary';
  storageKey: string;
  expiresAt: Date;
}

/** Attachment metadata (store/attachment.repository.ts). */
export interface AttachmentStore {
  insertAttachment(db: Db, a: AttachmentRow): Promise<void>;
  /** Inserts only while the owner's live attachments stay within `quotaBytes` (false: nothing inserted). */
  insertAttachmentWithinQuota(tx: Db, a: AttachmentRow, quotaBytes: number): Promise<boolean>;
  /** Bytes of the user's live (unexpired) attachments. */
  attachmentBytesOf(db: Db, userId: string): Promise<number>;
  /** The attachment if the user uploaded it or is a member of its conversation. */
  findVisibleAttachment(db: Db, id: string, userId: string): Promise<AttachmentRow | null>;
  deleteAttachments(
    db: Db,
    where: { expiredBefore: Date } | { ownerUserId: string },
  ): Promise<AttachmentRow[]>;
  /** Deletes one attachment if the user uploaded it (null: none of theirs). */
  deleteOwnAttachment(db: Db, id: string, ownerUserId: string): Promise<AttachmentRow | null>;
}

/** Where attachment ciphertext lives. Keys are generated by the server, never taken from users. */
export interface BlobStore {
  /** `local` or `cloudinary`. */
  readonly kind: 'local' | 'cloudinary';
  /** Stores bytes under a server-generated id; returns the storage key. */
  put(id: string, data: Buffer): Promise<string>;
  /** Opens a stored blob for streaming. */
  open(key: string): Promise<Readable>;
  /** Removes a blob (missing is fine). */
  remove(key: string): Promise<void>;
}
