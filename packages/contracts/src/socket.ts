import { z } from 'zod';
import { DeviceIdNumber } from './http/chat.http.js';
import { PrivacySettings } from './http/safety.http.js';

/**
 * Socket.IO contract of chat-service (path `/socket.io/`).
 *
 * Handshake: `auth: {deviceId, deviceSecret, token?}`; the token may instead come from the
 * `cc_access` cookie. A refused handshake surfaces as `connect_error` whose `data.code` is one of
 * {@link HandshakeErrorCode}. The server disconnects the socket when the access token
 * expires (after emitting `session:expired`); the client reconnects with a fresh token.
 */

/** Why a handshake was refused (`connect_error` → `err.data.code`). */
export const HandshakeErrorCode = z.enum([
  'unauthorized',
  'token_expired',
  'unknown_device',
  'invalid_device_credentials',
  'account_deleted',
  'session_revoked',
  'origin_not_allowed',
  'unavailable',
]);
export type HandshakeErrorCode = z.infer<typeof HandshakeErrorCode>;

/** Handshake `auth` object. */
export const SocketAuth = z.object({
  /** One of the caller's registered device ids. */
  deviceId: z.coerce.number().int().min(1).max(2_147_483_647),
  /** That device's secret from `POST /devices` (proves the socket is this device, not just this user). */
  deviceSecret: z.string().min(1).max(128),
  /** Access token (non-browser clients); browsers send the cookie instead. */
  token: z.string().min(1).max(4096).optional(),
});
export type SocketAuth = z.infer<typeof SocketAuth>;

/** Largest accepted envelope body (base64 characters). */
export const MAX_ENVELOPE_BODY_CHARS = 256 * 1024;
/** Most envelopes one `message:send` may carry (members × devices of a big group). */
export const MAX_ENVELOPES = 1000;

/** One ciphertext addressed to one device. */
export const Envelope = z.strictObject({
  /** Recipient user id. */
  userId: z.uuid(),
  /** Recipient device id. */
  deviceId: z.number().int().min(1).max(2_147_483_647),
  /** Signal message type (e.g. 3 = PreKeyWhisperMessage, 1 = WhisperMessage); opaque to the server. */
  type: z.number().int().min(0).max(255),
  /** Ciphertext, base64. The server stores and relays it; it never reads it. */
  body: z
    .string()
    .min(1)
    .max(MAX_ENVELOPE_BODY_CHARS)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
});
export type Envelope = z.infer<typeof Envelope>;

/** `message:send` payload. */
export const MessageSendPayload = z.strictObject({
  conversationId: z.uuid(),
  /** Client-chosen idempotency key: a resend with the same id returns the original message id. */
  clientMessageId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be [A-Za-z0-9_-]'),
  /** One envelope per device of every other member, plus one per other device of the sender. */
  envelopes: z.array(Envelope).min(1).max(MAX_ENVELOPES),
});
export type MessageSendPayload = z.infer<typeof MessageSendPayload>;

/** `message:send` ack data. */
export const MessageSendResult = z.object({
  /** Server message id (the same for every envelope of the message). */
  messageId: z.uuid(),
  /** When the server stored it (ISO 8601). */
  serverTimestamp: z.iso.datetime(),
  /** True when this was a resend of an already stored `clientMessageId`. */
  duplicate: z.boolean().optional(),
});
export type MessageSendResult = z.infer<typeof MessageSendResult>;

/** A device named in `stale_devices` details. */
export const DeviceAddress = z.object({ userId: z.uuid(), deviceId: DeviceIdNumber });
export type DeviceAddress = z.infer<typeof DeviceAddress>;
/** `details` of a `stale_devices` error: fetch bundles for `missing`, drop sessions of `extra`. */
export const StaleDevicesDetails = z.object({
  missing: z.array(DeviceAddress),
  extra: z.array(DeviceAddress),
});
export type StaleDevicesDetails = z.infer<typeof StaleDevicesDetails>;

/** `message:ack` payload: server message ids this device has stored; deletes only this device's copies. */
export const MessageAckPayload = z.strictObject({ messageIds: z.array(z.uuid()).min(1).max(500) });
export type MessageAckPayload = z.infer<typeof MessageAckPayload>;
/** `message:ack` ack data. */
export const MessageAckResult = z.object({ deleted: z.number().int() });

/** `presence:get` payload: ask for the presence of users who share a conversation with me. */
export const PresenceGetPayload = z.strictObject({ userIds: z.array(z.uuid()).min(1).max(500) });

/** `message:new` (server → client): one envelope for this device. */
export const MessageNew = z.object({
  messageId: z.uuid(),
  conversationId: z.uuid(),
  senderUserId: z.uuid(),
  senderDeviceId: DeviceIdNumber,
  type: z.number().int(),
  /** Ciphertext, base64. */
  body: z.string(),
  serverTimestamp: z.iso.datetime(),
});
export type MessageNew = z.infer<typeof MessageNew>;

/** `presence` (server → client), only about users who share a conversation with the receiver. */
export const PresenceEvent = z.object({
  userId: z.uuid(),
  online: z.boolean(),
  /** Last time any device of the user was connected (ISO 8601), null if never. */
  lastSeenAt: z.iso.datetime().nullable(),
});
export type PresenceEvent = z.infer<typeof PresenceEvent>;

/** `identity:changed` (server → client): a contact's identity key changed; re-verify safety numbers. */
export const IdentityChangedEvent = z.object({ userId: z.uuid() });
export type IdentityChangedEvent = z.infer<typeof IdentityChangedEvent>;

/** `conversation:updated` (server → client): membership or title changed; refetch it. */
export const ConversationUpdatedEvent = z.object({ conversationId: z.uuid() });
export type ConversationUpdatedEvent = z.infer<typeof ConversationUpdatedEvent>;

/** `prekeys:low` (server → client): this device's one-time prekeys ran low; upload more now. */
export const PreKeysLowEvent = z.object({ count: z.number().int().nonnegative() });
export type PreKeysLowEvent = z.infer<typeof PreKeysLowEvent>;

/**
 * `privacy:changed` (server → client): my privacy settings changed (`PUT /privacy` from any of
 * my devices); every device of mine applies them at once. The whole settings, as stored.
 */
export const PrivacyChangedEvent = PrivacySettings;
export type PrivacyChangedEvent = PrivacySettings;

/** `mailbox:sync` ack data: the drain has started (messages follow as `message:new`). */
export const MailboxSyncResult = z.object({ started: z.literal(true) });
export type MailboxSyncResult = z.infer<typeof MailboxSyncResult>;

/** An error inside a socket ack: the same `{code, message, details?}` as an HTTP error body's `error`. */
export const SocketError = z.object({
  /** Stable machine-readable code (e.g. `stale_devices`, `not_member`, `validation_error`). */
  code: z.string(),
  /** Human-readable explanation. */
  message: z.string(),
  /** Structured details (for `stale_devices`: {@link StaleDevicesDetails}). */
  details: z.unknown().optional(),
});
export type SocketError = z.infer<typeof SocketError>;
/** What every client → server event with a callback answers. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: SocketError };
/**
 * Schema of an {@link Ack} around a data schema, for clients that check what the server answers.
 * @param data schema of `data` in a successful ack
 * @returns the ack schema
 */
export const AckOf = <T extends z.ZodType>(data: T) =>
  z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), data }),
    z.object({ ok: z.literal(false), error: SocketError }),
  ]);

/** Events the client emits. */
export interface ClientToServerEvents {
  'message:send': (payload: MessageSendPayload, ack: (res: Ack<MessageSendResult>) => void) => void;
  'message:ack': (
    payload: MessageAckPayload,
    ack?: (res: Ack<{ deleted: number }>) => void,
  ) => void;
  'mailbox:sync': (ack?: (res: Ack<MailboxSyncResult>) => void) => void;
  'presence:get': (
    payload: { userIds: string[] },
    ack: (res: Ack<PresenceEvent[]>) => void,
  ) => void;
}

/** Events the server emits. */
export interface ServerToClientEvents {
  'message:new': (message: MessageNew) => void;
  /**
   * The device's mailbox was drained. `missed`: group envelopes that were not stored for this
   * device since its last drain because its mailbox was full (absent when none).
   */
  'mailbox:empty': (info?: { missed?: number }) => void;
  presence: (event: PresenceEvent) => void;
  'identity:changed': (event: IdentityChangedEvent) => void;
  'conversation:updated': (event: ConversationUpdatedEvent) => void;
  /** Sent just before the server disconnects a socket whose access token expired. */
  'session:expired': () => void;
  /** Sent just before the server disconnects a socket whose session was revoked (log out, account deleted). */
  'session:revoked': () => void;
  'prekeys:low': (event: PreKeysLowEvent) => void;
  /** To every device of the user, after a successful `PUT /privacy`. */
  'privacy:changed': (event: PrivacyChangedEvent) => void;
}
