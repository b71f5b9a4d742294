import { z } from 'zod';

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
