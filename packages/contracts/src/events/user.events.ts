import { z } from 'zod';

/**
 * Why user-service sends a verification or reset link. Absent (every older publisher) or
 * `requested`: the user asked for it. `registration_attempt`: someone tried to register with an
 * address that already has an account, and the owner gets the link inside a "someone tried to
 * sign up with your address" mail. Added after v1 shipped, so optional and additive: a consumer
 * built before it drops the field (zod strips unknown keys) and sends the plain mail, and an
 * unknown future value reads as absent here rather than dead-lettering the event.
 */
export const LinkReason = z.enum(['requested', 'registration_attempt']).optional().catch(undefined);
/** Why a link is sent ({@link LinkReason}). */
export type LinkReason = z.infer<typeof LinkReason>;

/** `user.registered.v1`: an account was created (email not yet verified). */
export const UserRegisteredV1 = z.object({
  /** The new user's id. */
  userId: z.uuid(),
  /** Address to write to. */
  email: z.email(),
  /** Public handle. */
  username: z.string(),
  /** Name shown to others. */
  displayName: z.string(),
});

/** `user.email_verification_requested.v1`: send a verification link. */
export const UserEmailVerificationRequestedV1 = z.object({
  /** The user to verify. */
  userId: z.uuid(),
  /** Address to verify. */
  email: z.email(),
  /** Name to greet. */
  displayName: z.string(),
  /** Full link the user clicks; carries the one-time token (stored only hashed by user-service). */
  verifyUrl: z.url(),
  /** When the link stops working (ISO 8601). */
  expiresAt: z.iso.datetime(),
  /**
   * Why it is sent (absent = the account's own sign-up or its logged-in user asked); see
   * {@link LinkReason}. Current user-services never send `registration_attempt` here (that is a
   * reset link now: a verification link could verify a squatter's account), and
   * notification-service does not mail a verification event that carries it.
   */
  reason: LinkReason,
});

/** `user.password_reset_requested.v1`: send a password reset link. */
export const UserPasswordResetRequestedV1 = z.object({
  /** The user resetting. */
  userId: z.uuid(),
  /** Address to write to. */
  email: z.email(),
  /** Name to greet. */
  displayName: z.string(),
  /** Full link carrying the one-time reset token. */
  resetUrl: z.url(),
  /** When the link stops working (ISO 8601). */
  expiresAt: z.iso.datetime(),
  /** Why it is sent (absent = the user asked); see {@link LinkReason}. */
  reason: LinkReason,
});

/** `user.new_login.v1`: a successful login, so the user can spot one that wasn't theirs. */
export const UserNewLoginV1 = z.object({
  /** Who logged in. */
  userId: z.uuid(),
  /** Address to alert. */
  email: z.email(),
  /** Name to greet. */
  displayName: z.string(),
  /** Whether the address was verified (unverified addresses only get the verification mail). */
  emailVerified: z.boolean(),
  /** Browser / client description from the User-Agent header. */
  userAgent: z.string().max(512),
  /** Client IP as seen by the edge. */
  ip: z.string().max(64),
  /** When (ISO 8601). */
  at: z.iso.datetime(),
});

/** `user.deleted.v1`: the account is gone; every service forgets the user. */
export const UserDeletedV1 = z.object({
  /** The deleted user's id. */
  userId: z.uuid(),
});

/** `user.profile_updated.v1`: display name or username changed (for digests and caches). */
export const UserProfileUpdatedV1 = z.object({
  /** The user. */
  userId: z.uuid(),
  /** Current email. */
  email: z.email(),
  /** Current username. */
  username: z.string(),
  /** Current display name. */
  displayName: z.string(),
  /** Whether the address is verified. */
  emailVerified: z.boolean(),
});

/** Payload types of user-service events. */
export type UserRegisteredV1 = z.infer<typeof UserRegisteredV1>;
export type UserEmailVerificationRequestedV1 = z.infer<typeof UserEmailVerificationRequestedV1>;
export type UserPasswordResetRequestedV1 = z.infer<typeof UserPasswordResetRequestedV1>;
export type UserNewLoginV1 = z.infer<typeof UserNewLoginV1>;
export type UserDeletedV1 = z.infer<typeof UserDeletedV1>;
export type UserProfileUpdatedV1 = z.infer<typeof UserProfileUpdatedV1>;
