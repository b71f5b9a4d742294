import { z } from 'zod';
import { MembershipState } from './safety.http.js';

/**
 * Standard base64 text (what the Signal keys, signatures, backups and envelope bodies travel
 * as), bounded in length before any decoding happens.
 * @param maxChars longest accepted text
 * @returns the schema
 */
export const base64Text = (maxChars: number) =>
  z
    .string()
    .min(1)
    .max(maxChars)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');

/** A Signal serialized public key: base64 of 33 bytes (0x05 type byte + 32-byte Curve25519 key). */
export const SignalPublicKey = base64Text(44);
/** A Signal XEdDSA signature: base64 of 64 bytes. */
export const SignalSignature = base64Text(88);
/** Signal prekey ids are 24-bit (Medium.MAX_VALUE). */
export const PreKeyId = z.number().int().min(0).max(0xffffff);
/** A device id: small positive integer, unique per user. */
export const DeviceId = z.coerce.number().int().min(1).max(2_147_483_647);
/** A device id in a JSON answer or event (no coercion: the client treats the server as hostile). */
export const DeviceIdNumber = z.number().int().min(1).max(2_147_483_647);

/**
 * POST /api/chat/devices. Needs a fresh login: the access token's `auth_time` at most
 * `FRESH_LOGIN_MAX_AGE_S` (default 300 s) old, else 401 `fresh_login_required`.
 */
export const CreateDeviceBody = z.strictObject({
  /**
   * Legacy label. Clients no longer send a readable name: device names travel end to end
   * (the device's own announcement to the account's other devices); the server stores none.
   */
  name: z.string().trim().max(64).optional(),
});
/**
 * A device secret: 32 random bytes, base64url without padding (43 characters). Proves that a
 * request comes from one specific device, not merely from some session of its user.
 */
export const DeviceSecret = z
  .string()
  .min(43)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');
/**
 * Header that carries the device secret on device-scoped routes (`/devices/:deviceId/keys…`) and,
 * with {@link DEVICE_ID_HEADER}, on account-changing routes.
 */
export const DEVICE_SECRET_HEADER = 'x-device-secret';
/**
 * Header naming the calling device on account-changing routes that need proof of one of the
 * account's devices (`DELETE /devices/:deviceId`, `PUT /backup`), next to `X-Device-Secret`;
 * missing or wrong → 403 `invalid_device_credentials`.
 */
export const DEVICE_ID_HEADER = 'x-device-id';

/** POST /api/chat/devices answer (201). */
export const CreateDeviceResult = z.object({
  deviceId: DeviceIdNumber,
  /**
   * The device's secret, returned this once only (the server keeps its SHA-256 digest). Send it
   * as `auth.deviceSecret` in the socket handshake and as `X-Device-Secret` on this device's
   * key routes; keep it in the device's local (sealed) store, never in the key backup.
   */
  deviceSecret: DeviceSecret,
});

/** A one-time prekey as uploaded and served. */
export const PreKeyUpload = z.strictObject({
  /** Signal prekey id. */
  keyId: PreKeyId,
  /** Public key (base64, 33 bytes). */
  publicKey: SignalPublicKey,
});
/** A signed prekey as uploaded and served. */
export const SignedPreKeyUpload = z.strictObject({
  /** Signal signed-prekey id. */
  keyId: PreKeyId,
  /** Public key (base64, 33 bytes). */
  publicKey: SignalPublicKey,
  /** Signature over `publicKey`'s serialized bytes by the identity key (base64, 64 bytes). */
  signature: SignalSignature,
});
/** PUT /api/chat/devices/:deviceId/keys */
export const UploadKeysBody = z.strictObject({
  /** Signal registration id of this device (14 bits). */
  registrationId: z.number().int().min(1).max(16380),
  /** The account identity public key (base64, 33 bytes); every device of a user shares it. */
  identityKey: SignalPublicKey,
  /** Current signed prekey of this device. */
  signedPreKey: SignedPreKeyUpload,
  /** One-time prekeys to add (at most 100 per request). */
  preKeys: z.array(PreKeyUpload).max(100).default([]),
});
/** GET /api/chat/devices/:deviceId/keys/count answer. */
export const PreKeyCountResult = z.object({ count: z.number().int().nonnegative() });

/** One device of a bundle answer. */
export const DeviceBundle = z.object({
  deviceId: DeviceIdNumber,
  registrationId: z.number().int().min(1).max(16380),
  signedPreKey: z.object({
    keyId: PreKeyId,
    publicKey: SignalPublicKey,
    signature: SignalSignature,
  }),
  /** Absent when the device ran out of one-time prekeys (X3DH then runs without one). */
  preKey: z.object({ keyId: PreKeyId, publicKey: SignalPublicKey }).optional(),
});
/** GET /api/chat/users/:userId/keys answer. */
export const KeyBundleResult = z.object({
  identityKey: SignalPublicKey,
  devices: z.array(DeviceBundle),
});
/** GET /api/chat/users/:userId/devices answer: devices that published keys. */
export const UserDevicesResult = z.object({ deviceIds: z.array(DeviceIdNumber) });
/** GET /api/chat/devices answer: my own devices. */
export const MyDevicesResult = z.object({
  devices: z.array(
    z.object({
      deviceId: DeviceIdNumber,
      /** Always `''`: the server stores no device names (they travel end to end). Kept for outside clients. */
      name: z.string(),
      /** Whether the device has uploaded keys (only those receive messages). */
      hasKeys: z.boolean(),
      createdAt: z.iso.datetime(),
      /**
       * The start of the hour in which the device last connected or proved itself (coarse on
       * purpose: written at most once an hour); null when unknown (older devices). Absent from
       * servers before issue 17.
       */
      lastActiveAt: z.iso.datetime().nullable().optional(),
    }),
  ),
});

/** PUT /api/chat/backup */
export const PutBackupBody = z.strictObject({
  /** Must be the stored version + 1 (1 for the first backup): optimistic concurrency. */
  version: z.number().int().min(1).max(2_147_483_647),
  /** The wrapped, encrypted backup (base64); the server cannot open it. */
  blob: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
});
/** GET /api/chat/backup answer; PUT answers `{version}`. */
export const BackupResult = z.object({ version: z.number().int().min(1), blob: z.string().min(1) });

/**
 * Kinds of conversation: `direct` (exactly two members), `group`, and `self` (one per user, only
 * its owner: the channel between the account's own devices, e.g. a new device's announcement).
 */
export const ConversationKind = z.enum(['direct', 'group', 'self']);
/** Roles in a conversation. */
export const ConversationRole = z.enum(['owner', 'admin', 'member']);
/** POST /api/chat/conversations */
export const CreateConversationBody = z.strictObject({
  kind: ConversationKind,
  /**
   * The other members (the caller is added automatically; listing the caller is tolerated). For
   * `self`: exactly `[<the caller's id>]`.
   */
  memberIds: z.array(z.uuid()).min(1).max(1000),
  /**
   * Legacy: chat-service refuses any title (400 `validation_error`); group titles travel end to
   * end in group control messages.
   */
  title: z.string().trim().min(1).max(128).optional(),
});
/** POST /api/chat/conversations/:id/members */
export const AddMembersBody = z.strictObject({ userIds: z.array(z.uuid()).min(1).max(1000) });
/**
 * PATCH /api/chat/conversations/:id: clears a group's legacy title (titles travel end to end in
 * group control messages; the server keeps none).
 */
export const UpdateConversationBody = z.strictObject({ title: z.null() });
/** PATCH /api/chat/conversations/:id/members/:userId (owner only). */
export const UpdateMemberBody = z.strictObject({ role: z.enum(['admin', 'member']) });
/** A member as presented. */
export const ConversationMember = z.object({
  userId: z.uuid(),
  role: ConversationRole,
  joinedAt: z.iso.datetime(),
});
/** A conversation as presented to a member. */
export const Conversation = z.object({
  id: z.uuid(),
  kind: ConversationKind,
  /** Legacy: group titles travel end to end now; the server keeps none for new groups. */
  title: z.string().nullable(),
  members: z.array(ConversationMember),
  /** The caller's standing: `request` until the caller accepts a conversation a stranger started. */
  myState: MembershipState,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
/** GET /api/chat/conversations?limit=&cursor= answer (most recently updated first). */
export const ConversationList = z.object({
  conversations: z.array(Conversation),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable().optional(),
});

/** POST /api/chat/attachments?conversationId= answer (201). */
export const AttachmentResult = z.object({
  id: z.uuid(),
  size: z.number().int(),
  expiresAt: z.iso.datetime(),
});

/**
 * GET /api/chat/config answer: the service's limits a client checks before it does the work
 * (any signed-in user; the same for everyone).
 */
export const ChatConfigResult = z.object({
  /** Largest attachment the server stores, in bytes of ciphertext (`iv ‖ ciphertext ‖ tag`: plaintext + 28). */
  attachmentMaxBytes: z.number().int().positive(),
});

export type CreateDeviceBody = z.infer<typeof CreateDeviceBody>;
export type CreateDeviceResult = z.infer<typeof CreateDeviceResult>;
export type UploadKeysBody = z.input<typeof UploadKeysBody>;
export type KeyBundleResult = z.infer<typeof KeyBundleResult>;
export type DeviceBundleResult = z.infer<typeof DeviceBundle>;
export type PutBackupBody = z.infer<typeof PutBackupBody>;
export type BackupResult = z.infer<typeof BackupResult>;
export type ConversationRole = z.infer<typeof ConversationRole>;
export type ConversationKind = z.infer<typeof ConversationKind>;
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;
export type Conversation = z.infer<typeof Conversation>;
export type ConversationMember = z.infer<typeof ConversationMember>;
export type AttachmentResult = z.infer<typeof AttachmentResult>;
export type ChatConfigResult = z.infer<typeof ChatConfigResult>;
