import { EntitySchema } from 'typeorm';

/** Table shapes of the notify schema (documentation for TypeORM; repositories use SQL). */
export const NotifyUserEntity = new EntitySchema<{ userId: string; email: string; username: string; displayName: string; emailVerified: boolean; factsAt: Date; welcomedAt: Date | null; updatedAt: Date }>({
  name: 'NotifyUser',
  tableName: 'users',
  columns: {
    userId: { name: 'user_id', type: 'uuid', primary: true },
    email: { type: 'text' },
    username: { type: 'text' },
    displayName: { name: 'display_name', type: 'text' },
    emailVerified: { name: 'email_verified', type: 'boolean', default: false },
    factsAt: { name: 'facts_at', type: 'timestamptz' },
    welcomedAt: { name: 'welcomed_at', type: 'timestamptz', nullable: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', default: () => 'now()' },
  },
});

/** A user's notification preferences. */
export const PreferencesEntity = new EntitySchema<{ userId: string; welcome: boolean; newLogin: boolean; digest: boolean; digestDelayMinutes: number | null; digestContent: string; updatedAt: Date }>({
  name: 'Preferences',
  tableName: 'preferences',
  columns: {
    userId: { name: 'user_id', type: 'uuid', primary: true },
    welcome: { type: 'boolean', default: true },
    newLogin: { name: 'new_login', type: 'boolean', default: true },
    digest: { type: 'boolean', default: true },
    digestDelayMinutes: { name: 'digest_delay_minutes', type: 'int', nullable: true },
    digestContent: { name: 'digest_content', type: 'text', default: 'sender' },
    updatedAt: { name: 'updated_at', type: 'timestamptz', default: () => 'now()' },
  },
});

/** One row per mail sent or deliberately not sent; unique per (event, kind). */
export const SentMailEntity = new EntitySchema<{ id: string; eventId: string; kind: string; userId: string | null; recipientHash: string | null; messageId: string | null; status: string; reason: string | null; sentAt: Date }>({
  name: 'SentMail',
  tableName: 'sent_mail',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    eventId: { name: 'event_id', type: 'uuid' },
    kind: { type: 'text' },
    userId: { name: 'user_id', type: 'uuid', nullable: true },
    recipientHash: { name: 'recipient_hash', type: 'text', nullable: true },
    messageId: { name: 'message_id', type: 'text', nullable: true },
    status: { type: 'text' },
    reason: { type: 'text', nullable: true },
    sentAt: { name: 'sent_at', type: 'timestamptz', default: () => 'now()' },
  },
  uniques: [{ columns: ['eventId', 'kind'] }],
});

/** The pending digest of a user (one row per user). */
export const DigestEntity = new EntitySchema<{ userId: string; digestId: string | null; dueAt: Date | null; attempts: number; lastSentAt: Date | null }>({
  name: 'Digest',
  tableName: 'digests',
  columns: {
    userId: { name: 'user_id', type: 'uuid', primary: true },
    digestId: { name: 'digest_id', type: 'uuid', nullable: true },
    dueAt: { name: 'due_at', type: 'timestamptz', nullable: true },
    attempts: { type: 'int', default: 0 },
    lastSentAt: { name: 'last_sent_at', type: 'timestamptz', nullable: true },
  },
});

/** One unread message waiting in a digest: ids and time only, never content. */
export const DigestItemEntity = new EntitySchema<{ userId: string; messageId: string; senderUserId: string; queuedAt: Date }>({
  name: 'DigestItem',
  tableName: 'digest_items',
  columns: {
    userId: { name: 'user_id', type: 'uuid', primary: true },
    messageId: { name: 'message_id', type: 'uuid', primary: true },
    senderUserId: { name: 'sender_user_id', type: 'uuid' },
    queuedAt: { name: 'queued_at', type: 'timestamptz' },
  },
});

/** Every entity of the notify schema. */
export const entities = [NotifyUserEntity, PreferencesEntity, SentMailEntity, DigestEntity, DigestItemEntity];
