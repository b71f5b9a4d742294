import { z } from 'zod';

/**
 * Answers of chat-service as the client reads them. Parsed defensively (extra fields ignored,
 * ids accepted as numbers or numeric strings) because the client talks to older and newer
 * servers during a blue-green deploy.
 */

/** A device id: positive integer (Signal addresses need numbers). */
export const DeviceId = z.coerce.number().int().positive();

/** `POST /devices` answer: the new device's id and its secret (handed out this once). */
export const CreateDeviceAnswer = z.object({ deviceId: DeviceId, deviceSecret: z.string().min(1) });

/** `GET /devices/:id/keys/count` answer. */
export const PreKeyCountAnswer = z.object({ count: z.number().int().nonnegative() });

const PublicKeyB64 = z.string().min(1);
/** One device of a bundle answer. */
export const BundleDevice = z.object({
  deviceId: DeviceId,
  registrationId: z.number().int(),
  signedPreKey: z.object({ keyId: z.number().int(), publicKey: PublicKeyB64, signature: PublicKeyB64 }),
  preKey: z.object({ keyId: z.number().int(), publicKey: PublicKeyB64 }).nullish(),
});
/** `GET /users/:userId/keys` answer. */
export const BundleAnswer = z.object({ identityKey: PublicKeyB64, devices: z.array(BundleDevice) });
/** `GET /users/:userId/keys` answer. */
export type BundleAnswer = z.infer<typeof BundleAnswer>;

const DeviceRef = z
  .union([DeviceId, z.object({ deviceId: DeviceId }).loose()])
  .transform((d) => (typeof d === 'number' ? d : d.deviceId));
/** `GET /users/:userId/devices` answer (a list of ids, or of objects with `deviceId`). */
export const DevicesAnswer = z.union([
  z.object({ devices: z.array(DeviceRef) }).loose().transform((a) => a.devices),
  z.object({ deviceIds: z.array(DeviceRef) }).loose().transform((a) => a.deviceIds),
  z.array(DeviceRef),
]);

/** `GET /backup` answer. */
export const BackupAnswer = z.object({ version: z.number().int().nonnegative(), blob: z.string() });

/** A conversation member. */
export const Member = z
  .union([z.string(), z.object({ userId: z.string(), role: z.string().optional() }).loose()])
  .transform((m) => (typeof m === 'string' ? { userId: m, role: undefined } : { userId: m.userId, role: m.role }));
/** A conversation. */
export const Conversation = z
  .object({
    id: z.string(),
    kind: z.enum(['direct', 'group']),
    title: z.string().nullish(),
    members: z.array(Member).optional(),
    memberIds: z.array(z.string()).optional(),
  })
  .loose()
  .transform((c) => ({
    id: c.id,
    kind: c.kind,
    title: c.title ?? undefined,
    memberIds: c.members ? c.members.map((m) => m.userId) : (c.memberIds ?? []),
  }));
/** A conversation, normalised. */
export type Conversation = z.infer<typeof Conversation>;
/** `POST /conversations` / `GET /conversations/:id` answer (bare or wrapped). */
export const ConversationAnswer = z.union([z.object({ conversation: Conversation }).transform((a) => a.conversation), Conversation]);
/** `GET /conversations` answer. */
export const ConversationsAnswer = z
  .union([z.object({ conversations: z.array(Conversation) }).transform((a) => a.conversations), z.array(Conversation)]);

/** `POST /attachments` answer. */
export const AttachmentUploadAnswer = z.object({ id: z.string() }).loose();
