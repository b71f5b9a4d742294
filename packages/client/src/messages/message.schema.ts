import { z } from 'zod';
import { imageSize } from '../attachments/image-size.js';
import { fromBase64 } from '../protocol/bytes.js';
import { RetryControl } from './retry.schema.js';

export { MAX_RESENT_CHARS, RetryControl } from './retry.schema.js';

const b64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');

/** The plaintext format version this client writes (readers accept any version; see docs/client.md "Message format"). */
export const FORMAT_VERSION = 2;

/**
 * The kinds this client understands. The set is open: a plaintext of any other kind is kept and
 * shown as "needs a newer version" (see `plaintext-codec.ts`), never dropped.
 */
export const KNOWN_KINDS = [
  'text',
  'attachment',
  'receipt',
  'typing',
  'group',
  'device',
  'reaction',
  'edit',
  'delete',
  'timer',
  'avatar',
  'retry',
] as const;
/** A kind this client understands. */
export type KnownKind = (typeof KNOWN_KINDS)[number];

/** Disappearing-message timers a client offers, in seconds (5 min, 1 h, 1 d, 1 w, 4 w); null is off. */
export const DISAPPEAR_TIMERS_S = [300, 3600, 86_400, 604_800, 2_419_200] as const;
/**
 * A disappearing-message timer in seconds, or null for off. Clients offer {@link DISAPPEAR_TIMERS_S};
 * any value up to a year is honoured (a newer client may offer more).
 */
export const DisappearTimer = z.number().int().min(1).max(31_536_000).nullable();

/** Largest thumbnail a plaintext carries, in base64 characters (12 KiB of image). */
export const MAX_THUMBNAIL_CHARS = 16_384;

/**
 * A small preview of an image, made by the sender and carried inside the (encrypted) message, so
 * the receiver shows it at once while the full file downloads.
 */
export const AttachmentThumbnail = z.strictObject({
  /** Image type of `data`. */
  contentType: z.enum(['image/jpeg', 'image/webp', 'image/png']),
  /** Size of the preview in pixels (the full image has the same aspect ratio). */
  width: z.number().int().min(1).max(1024),
  height: z.number().int().min(1).max(1024),
  /** base64 of the image bytes. */
  data: b64.min(1).max(MAX_THUMBNAIL_CHARS),
}).refine(
  // The header must declare the size the sender stated, at most 1024 a side: a few KiB of PNG
  // can declare gigabytes of pixels. A plaintext with such a thumbnail is refused.
  (t) => {
    try {
      const size = imageSize(fromBase64(t.data));
      return size !== undefined && size.width === t.width && size.height === t.height;
    } catch {
      return false; // not decodable base64
    }
  },
  { message: 'thumbnail header does not match its stated size' },
);
/** A small preview of an image attachment. */
export type AttachmentThumbnail = z.infer<typeof AttachmentThumbnail>;

/** Pointer to an encrypted attachment plus what is needed to verify and open it. */
export const AttachmentPointer = z.strictObject({
  /** Server id of the ciphertext blob (`GET /api/chat/attachments/:id`). */
  id: z.string().min(1).max(200),
  /** base64 of the 32-byte AES-256-GCM key (only ever inside an E2EE message). */
  key: b64.min(43).max(44),
  /** base64 of SHA-256 over the ciphertext blob, checked before decrypting. */
  digest: b64.min(43).max(44),
  /** Plaintext size in bytes. */
  size: z.number().int().nonnegative(),
  /** MIME type of the plaintext. */
  contentType: z.string().max(255),
  /** Original file name, if any. */
  fileName: z.string().max(255).optional(),
  /** A preview of an image (format 2; older readers keep it in `raw` and show the file). */
  thumbnail: AttachmentThumbnail.optional(),
  /** A recorded voice note (format 2): played inline; its length in milliseconds. */
  voice: z.strictObject({ durationMs: z.number().int().min(0).max(3_600_000) }).optional(),
});
/** Pointer to an encrypted attachment. */
export type AttachmentPointer = z.infer<typeof AttachmentPointer>;

/**
 * A profile picture (kind `avatar`), sent end to end to the people I share a conversation with:
 * the pointer to its encrypted blob (null: removed) and when I set it (orders changes).
 */
export const AvatarChange = z.strictObject({
  /** The encrypted image uploaded into this conversation, or null when I removed my picture. */
  pointer: AttachmentPointer.nullable(),
  /** When the picture was set or removed (sender's clock, epoch ms; bounded by the server's time on receipt). */
  setAt: z.number().int().nonnegative().max(8_640_000_000_000_000),
});
/** A profile-picture change. */
export type AvatarChange = z.infer<typeof AvatarChange>;

/** A member of a group as the group's own (end-to-end) state says. */
export const GroupMemberState = z.strictObject({ userId: z.uuid(), role: z.enum(['owner', 'admin', 'member']) });
/** The whole state of a group: what a new member (or a new device) starts from. */
export const GroupState = z.strictObject({
  members: z.array(GroupMemberState).min(1).max(1000),
  title: z.string().max(128).nullable(),
  /** Disappearing-message timer of the group (seconds; null or absent: off). */
  timerS: DisappearTimer.optional(),
});
/**
 * A group control message (kind `group`): membership, roles and title are set by members, end to
 * end; each client applies a change only if its sender may make it in that client's own view.
 */
export const GroupControl = z.strictObject({
  /** What changes. `create` and `add` carry the whole `state` (new members start from it). */
  op: z.enum(['create', 'add', 'remove', 'leave', 'rename', 'role', 'timer']),
  /** The members added or removed, or whose role changes. */
  userIds: z.array(z.uuid()).max(1000).optional(),
  /** New role (op `role`). */
  role: z.enum(['admin', 'member']).optional(),
  /** New title (op `rename`; null clears it). */
  title: z.string().max(128).nullable().optional(),
  /** New disappearing timer in seconds (op `timer`; null turns it off). */
  timerS: DisappearTimer.optional(),
  /** The group's whole state after the change (ops `create` and `add`). */
  state: GroupState.optional(),
});
/**
 * A device announcement (kind `device`), sent by a device to the account's other devices in the
 * account's `self` conversation: the device's name never reaches the server.
 */
export const DeviceAnnouncement = z.strictObject({
  /** The announcing device (must equal the envelope's sender device). */
  deviceId: z.number().int().min(1).max(2_147_483_647),
  /** Name chosen by the device's client ("Firefox on Linux"). */
  name: z.string().min(1).max(64),
  /** When it was linked, epoch milliseconds. */
  linkedAt: z.number().int().nonnegative(),
});

/** Latest `sentAt` a plaintext may carry: the last moment a JavaScript `Date` can hold (8.64e15 ms). */
export const MAX_SENT_AT = 8_640_000_000_000_000;

/** What every plaintext carries, whatever its kind (what an older reader still understands). */
export const PlaintextHeader = z.looseObject({
  /** Format version of the writer (1: before kinds were open; 2: this format). */
  v: z.number().int().min(1).max(1_000_000),
  /** What this message carries: any string; see {@link KNOWN_KINDS}. */
  kind: z.string().min(1).max(64),
  /** Client-generated id (UUID): the dedupe key, shared by every device copy. */
  id: z.uuid(),
  /** Conversation it belongs to. */
  conversationId: z.string().min(1).max(100),
  /** Sender's clock, epoch milliseconds (at most {@link MAX_SENT_AT}: a valid `Date`). */
  sentAt: z.number().int().nonnegative().max(MAX_SENT_AT),
  /** Text a reader that does not understand the kind (or a field) shows under its notice. */
  fallback: z.string().max(2048).optional(),
});
/** The header every plaintext has. */
export type PlaintextHeader = z.infer<typeof PlaintextHeader>;

/** A quoted message (kind `text` or `attachment`): enough to show the quote before the original is loaded. */
export const ReplyRef = z.strictObject({
  /** The quoted message's client id. */
  id: z.uuid(),
  /** Who wrote it. */
  authorUserId: z.uuid(),
  /** The start of its text (or its file name), at most 200 characters. */
  excerpt: z.string().max(200),
});

/**
 * The plaintext inside every Signal ciphertext, in the kinds this client understands. It never
 * reaches the server: chat-service only sees the envelope around its ciphertext.
 */
export const PlaintextMessage = z.strictObject({
  /** Format version of the writer ({@link FORMAT_VERSION} when this client writes). */
  v: z.number().int().min(1).max(1_000_000),
  /** What this message carries. */
  kind: z.enum(KNOWN_KINDS),
  /** Client-generated id (UUID): the dedupe key, shared by every device copy. */
  id: z.uuid(),
  /** Conversation it belongs to. */
  conversationId: z.string().min(1).max(100),
  /** Sender's clock, epoch milliseconds (at most {@link MAX_SENT_AT}: a valid `Date`). */
  sentAt: z.number().int().nonnegative().max(MAX_SENT_AT),
  /** Text for readers that do not understand this kind or one of its fields. */
  fallback: z.string().max(2048).optional(),
  /** Message text (kind `text`, or a caption for `attachment`). */
  text: z.string().max(65_536).optional(),
  /** Attachment pointer (kind `attachment`). */
  attachment: AttachmentPointer.optional(),
  /** The message this one replies to (kinds `text`, `attachment`). */
  replyTo: ReplyRef.optional(),
  /** Members mentioned in the text (user ids; kinds `text`, `attachment`). */
  mentions: z.array(z.uuid()).max(100).optional(),
  /** The conversation's disappearing timer when this was sent (kinds `text`, `attachment`). */
  expiresInS: DisappearTimer.optional(),
  /** Receipt (kind `receipt`): which message ids were delivered or read. */
  receipt: z
    .strictObject({ type: z.enum(['delivered', 'read']), messageIds: z.array(z.uuid()).min(1).max(500) })
    .optional(),
  /** Typing state (kind `typing`). */
  typing: z.strictObject({ on: z.boolean() }).optional(),
  /** Group control (kind `group`). */
  group: GroupControl.optional(),
  /** Device announcement (kind `device`). */
  device: DeviceAnnouncement.optional(),
  /** Reaction (kind `reaction`): my one reaction to a message; null takes it back. */
  reaction: z.strictObject({ messageId: z.uuid(), emoji: z.string().min(1).max(32).nullable() }).optional(),
  /** Edit (kind `edit`): the new text of my own message. */
  edit: z.strictObject({ messageId: z.uuid(), text: z.string().min(1).max(65_536) }).optional(),
  /** Delete for everyone (kind `delete`): my own messages to replace with a tombstone. */
  delete: z.strictObject({ messageIds: z.array(z.uuid()).min(1).max(100) }).optional(),
  /** Disappearing timer of a direct conversation (kind `timer`; groups use a `group` op `timer`). */
  timer: z.strictObject({ seconds: DisappearTimer }).optional(),
  /** My profile picture (kind `avatar`; see docs/client.md "Profile pictures"). */
  avatar: AvatarChange.optional(),
  /** A decryption-failure retry (kind `retry`; docs/client.md "Decrypt failures and retries"). */
  retry: RetryControl.optional(),
});
/** The plaintext inside a Signal ciphertext. */
export type PlaintextMessage = z.infer<typeof PlaintextMessage>;
export type GroupState = z.infer<typeof GroupState>;
export type GroupControl = z.infer<typeof GroupControl>;
export type DeviceAnnouncement = z.infer<typeof DeviceAnnouncement>;

/** One message in the local history store. */
export const StoredMessage = z.object({
  /** Client message id (the plaintext `id`). */
  id: z.string(),
  conversationId: z.string(),
  senderUserId: z.string(),
  senderDeviceId: z.number().int(),
  /** `out` when sent by this account (from any of my devices). */
  direction: z.enum(['in', 'out']),
  /**
   * `event`: a membership or settings change shown as a line in the chat ("Carol added Dan").
   * `unsupported`: a plaintext of a kind this client does not know, kept in `raw` and shown as
   * "This message needs a newer version" until an upgraded client reads it again.
   */
  kind: z.enum(['text', 'attachment', 'event', 'unsupported']),
  text: z.string().optional(),
  /**
   * The membership or settings change (kind `event`), from a group control message its sender was
   * allowed to send, or a direct chat's `timer` message.
   */
  event: z
    .strictObject({
      type: z.enum(['created', 'added', 'removed', 'left', 'renamed', 'role', 'timer']),
      /** Who made the change. */
      actorUserId: z.string(),
      /** Who was added, removed, or whose role changed. */
      userIds: z.array(z.string()).optional(),
      /** The new title (renamed, created). */
      title: z.string().nullable().optional(),
      /** The new role (role). */
      role: z.enum(['admin', 'member']).optional(),
      /** The new disappearing timer in seconds, null when turned off (timer). */
      timerS: z.number().nullable().optional(),
    })
    .optional(),
  /**
   * The decrypted plaintext JSON, kept when this client did not understand all of it (kind
   * `unsupported`, or fields listed in `unknownFields`), so an upgraded client can read it again.
   */
  raw: z.string().optional(),
  /** Fields of the plaintext this client did not understand (shown: "needs a newer version to show fully"). */
  unknownFields: z.array(z.string()).optional(),
  /** The plaintext's kind when `unsupported`; its `fallback` text when it had one. */
  unsupported: z.object({ kind: z.string(), fallback: z.string().optional() }).optional(),
  /** The message this one replies to. */
  replyTo: ReplyRef.optional(),
  /** Members mentioned in the text (user ids). */
  mentions: z.array(z.string()).optional(),
  /** Reactions, one per person: user id to emoji and when (epoch ms, sender's clock). */
  reactions: z.record(z.string(), z.object({ emoji: z.string(), at: z.number() })).optional(),
  /** When the sender last edited it (epoch ms, sender's clock); the text is the latest. */
  editedAt: z.number().optional(),
  /** Earlier texts, oldest first (kept on this device only). */
  edits: z.array(z.object({ text: z.string(), at: z.number() })).optional(),
  /** Deleted for everyone by its sender: text and attachment are gone, a tombstone stays. */
  deletedAt: z.number().optional(),
  /** The disappearing timer it was sent with (seconds). */
  expiresInS: z.number().optional(),
  /** When it disappears from every device (epoch ms): from send for mine, from read for received ones. */
  expiresAt: z.number().optional(),
  attachment: AttachmentPointer.optional(),
  /** Sender's clock, epoch milliseconds. */
  sentAt: z.number(),
  /** Server timestamp (ISO 8601) when known. */
  serverTimestamp: z.string().optional(),
  /** Server message id when known. */
  serverMessageId: z.string().optional(),
  /**
   * Delivery state. Outgoing: `sending` while in the outgoing queue, `failed` when it gave up,
   * then `sent` / `delivered` / `read` as the server and receipts tell.
   */
  status: z.enum(['sending', 'sent', 'delivered', 'read', 'received', 'failed']),
  /**
   * Outgoing: the other members whose "read" receipt arrived (user ids, first come first; never
   * me). A group shows "Read by 2 of 4" from it; `status` keeps the furthest state anyone reached.
   */
  readBy: z.array(z.string()).optional(),
  /** Outgoing: the other members one of whose devices has it (a "delivered" or "read" receipt; never me). */
  deliveredTo: z.array(z.string()).optional(),
  /** Why an outgoing message is `failed` (absent otherwise). */
  failure: z
    .object({
      /** Stable reason code (`not_member`, `validation_error`, `untrusted_identity`, `network_error`...). */
      code: z.string(),
      /** Human-readable detail of the last error. */
      message: z.string().optional(),
    })
    .optional(),
});
/** One message in the local history store. */
export type StoredMessage = z.infer<typeof StoredMessage>;

/**
 * How far an outgoing message got: a state change (an attempt's result, a receipt) only ever
 * moves it forward (a receipt may arrive before the send's own ack is stored).
 */
export const STATUS_ORDER: Readonly<Record<StoredMessage['status'], number>> = {
  sending: 0,
  failed: 0,
  sent: 1,
  received: 1,
  delivered: 2,
  read: 3,
};

/**
 * One entry of the persisted outgoing queue: the message (same id, status `sending`) waits in
 * history; the job says when to try it next. Written in the same store transaction as the message.
 */
export const OutgoingJob = z.object({
  /** The message's client id (one job per message). */
  id: z.string(),
  /** The message's conversation (jobs of one conversation go out in order). */
  conversationId: z.string(),
  /** Queue position: jobs of one conversation go out in this order (monotonic per device). */
  seq: z.number().nonnegative().default(0),
  /**
   * The members (user ids) of the conversation when the message was queued: it is never
   * encrypted for anyone else (someone added later fails it with `membership_changed`; Retry
   * takes the new list). Absent when the member list was unknown then (first attempt decides).
   */
  recipients: z.array(z.string()).optional(),
  /** Failed attempts so far (time offline does not count). */
  attempts: z.number().int().nonnegative(),
  /** Epoch milliseconds before which the job is not tried again. */
  notBefore: z.number(),
  /**
   * Attempts that found the server unreachable (no answer, network down, 502/503/504): they set
   * the backoff but never fail the message (it waits for the network; docs/client.md).
   */
  unreachable: z.number().int().nonnegative().optional(),
  /** Code of the last transient error, if any. */
  lastError: z.string().optional(),
  /**
   * A control message (reaction, edit, delete, timer): the plaintext to send as it is, with no
   * history entry of its own (`id` is the plaintext's id). Never pinned to `recipients`: it goes
   * to the members of my view when it leaves.
   */
  control: PlaintextMessage.optional(),
});
/** One entry of the persisted outgoing queue. */
export type OutgoingJob = z.infer<typeof OutgoingJob>;
