import { z } from 'zod';

/**
 * `chat.message_queued.v1`: a message was stored for a recipient with no online device.
 * Metadata only: never ciphertext.
 */
export const ChatMessageQueuedV1 = z.object({
  /** Server message id. */
  messageId: z.uuid(),
  /** Who should be told (user id). */
  recipientUserId: z.uuid(),
  /** Conversation the message belongs to. */
  conversationId: z.uuid(),
  /** Who sent it (user id). */
  senderUserId: z.uuid(),
  /** When the server stored it (ISO 8601). */
  queuedAt: z.iso.datetime(),
});
/** Payload of `chat.message_queued.v1`. */
export type ChatMessageQueuedV1 = z.infer<typeof ChatMessageQueuedV1>;

/** `chat.mailbox_drained.v1`: a device of the user acked everything in its mailbox after messages were announced as queued; notification-service cancels the pending email digest. */
export const ChatMailboxDrainedV1 = z.object({
  /** The user whose device caught up. */
  userId: z.uuid(),
  /** When (ISO 8601). */
  at: z.iso.datetime(),
});
/** Payload of `chat.mailbox_drained.v1`. */
export type ChatMailboxDrainedV1 = z.infer<typeof ChatMailboxDrainedV1>;
