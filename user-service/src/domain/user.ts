import type { Me, PublicUser } from '@cipherchat/contracts';

/** A live account as the store returns it (never the OPAQUE record). */
export interface User {
  /** Id. */
  id: string;
  /** Lower-cased email: also the OPAQUE user identifier. */
  email: string;
  /** Lower-cased unique handle. */
  username: string;
  /** Name shown to others. */
  displayName: string;
  /** When the address was verified, if it was. */
  emailVerifiedAt: Date | null;
  /** Creation time. */
  createdAt: Date;
}

/**
 * What the user sees of themself.
 * @param user the account
 * @returns the `Me` body
 */
export function toMe(user: User): Me {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null,
    createdAt: user.createdAt.toISOString(),
  };
}

/**
 * What anyone may see of a user: never the email.
 * @param user the account
 * @returns the public view
 */
export function toPublicUser(user: Pick<User, 'id' | 'username' | 'displayName'>): PublicUser {
  return { id: user.id, username: user.username, displayName: user.displayName };
}
