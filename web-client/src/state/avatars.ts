/**
 * What the UI needs for profile pictures (spread into the `ChatApi`; the SDK side is
 * sdk-avatars.ts). Pictures travel end to end: the SDK encrypts mine, shares the key with the
 * people I share an accepted conversation with, and keeps the pictures it received (checked and
 * decrypted) in its sealed local store. See docs/client.md "Profile pictures".
 */
export interface AvatarApi {
  /** Someone's picture (mine too) from this browser's store, or undefined when there is none (yet). */
  avatarImage(userId: string): Promise<Blob | undefined>;
  /**
   * Sets my picture (already made square and small by the caller) and sends it to my contacts.
   * Throws an `ApiError` with `avatar_too_large`, `avatar_not_image`, `avatar_empty` or `quota_exceeded`.
   */
  setAvatar(image: Blob): Promise<void>;
  /** Removes my picture: my contacts are told and its encrypted copies leave the server. */
  removeAvatar(): Promise<void>;
  /** Calls `listener` with the user id whenever a picture changed; returns the unsubscribe. */
  onAvatarChanged(listener: (userId: string) => void): () => void;
}
