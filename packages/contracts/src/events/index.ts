import type { z } from 'zod';
import { ChatMailboxDrainedV1, ChatMessageQueuedV1 } from './chat.events.js';
import {
  UserDeletedV1,
  UserEmailVerificationRequestedV1,
  UserNewLoginV1,
  UserPasswordResetRequestedV1,
  UserProfileUpdatedV1,
  UserRegisteredV1,
} from './user.events.js';

export * from './envelope.js';
export * from './user.events.js';
export * from './chat.events.js';

/** Payload schema for every event type on the bus (routing key -> schema). */
export const eventSchemas = {
  'user.registered.v1': UserRegisteredV1,
  'user.email_verification_requested.v1': UserEmailVerificationRequestedV1,
  'user.password_reset_requested.v1': UserPasswordResetRequestedV1,
  'user.new_login.v1': UserNewLoginV1,
  'user.deleted.v1': UserDeletedV1,
  'user.profile_updated.v1': UserProfileUpdatedV1,
  'chat.message_queued.v1': ChatMessageQueuedV1,
  'chat.mailbox_drained.v1': ChatMailboxDrainedV1,
} as const;

/** Every known event type (routing key). */
export type EventType = keyof typeof eventSchemas;
/** The payload type of a given event type. */
export type EventPayload<T extends EventType> = z.infer<(typeof eventSchemas)[T]>;
