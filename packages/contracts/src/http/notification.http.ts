import { z } from 'zod';

/**
 * Kinds of email notification-service sends. `verify_email` and `password_reset` are sent
 * only because the user asked for them and cannot be switched off; neither can
 * `registration_attempt` ("someone tried to create an account with your address", carrying the
 * owner's reset or verification link; throttled per address by user-service). The others can.
 */
export const NotificationKind = z.enum([
  'verify_email',
  'password_reset',
  'welcome',
  'new_login',
  'digest',
  'registration_attempt',
]);
/** A kind of email. */
export type NotificationKind = z.infer<typeof NotificationKind>;

/** Kinds a user may switch off (preferences, unsubscribe links); `all` = every optional kind. */
export const OptionalNotificationKind = z.enum(['welcome', 'new_login', 'digest', 'all']);
/** A kind that can be switched off. */
export type OptionalNotificationKind = z.infer<typeof OptionalNotificationKind>;

/** How much an unread-messages digest says: sender display names, or nothing at all. */
export const DigestContent = z.enum(['sender', 'generic']);
/** Digest content level. */
export type DigestContent = z.infer<typeof DigestContent>;

/** GET /api/notifications/preferences answer (defaults until the user changes something). */
export const NotificationPreferences = z.object({
  /** Email on/off per optional kind. */
  email: z.object({
    /** The welcome mail sent once the address is verified. */
    welcome: z.boolean(),
    /** New sign-in alerts. */
    newLogin: z.boolean(),
    /** Unread-message digests while offline. */
    digest: z.boolean(),
  }),
  /** Minutes a message must stay unread (recipient offline) before a digest is mailed. */
  digestDelayMinutes: z.number().int().min(1).max(1440),
  /** `sender`: "3 new messages from Alice"; `generic`: "You have new messages". Never content. */
  digestContent: DigestContent,
  /** Last change (ISO 8601), or null while the defaults apply. */
  updatedAt: z.iso.datetime().nullable(),
});
/** A user's notification preferences. */
export type NotificationPreferences = z.infer<typeof NotificationPreferences>;

/** PUT /api/notifications/preferences body: fields left out keep their current value. */
export const UpdatePreferencesBody = z
  .strictObject({
    email: z
      .strictObject({
        welcome: z.boolean().optional(),
        newLogin: z.boolean().optional(),
        digest: z.boolean().optional(),
      })
      .optional(),
    digestDelayMinutes: z.number().int().min(1).max(1440).optional(),
    digestContent: DigestContent.optional(),
  })
  .refine(
    (b) =>
      b.email !== undefined || b.digestDelayMinutes !== undefined || b.digestContent !== undefined,
    {
      message: 'give at least one of email, digestDelayMinutes, digestContent',
    },
  );
/** PUT /api/notifications/preferences body. */
export type UpdatePreferencesBody = z.infer<typeof UpdatePreferencesBody>;

/** GET/POST /api/notifications/unsubscribe query: the signed token from the email link. */
export const UnsubscribeQuery = z.strictObject({ token: z.string().min(1).max(512) });
/** Unsubscribe query. */
export type UnsubscribeQuery = z.infer<typeof UnsubscribeQuery>;
