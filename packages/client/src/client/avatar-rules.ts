import { imageSize } from '../attachments/image-size.js';
import { ApiError } from '../transport/api-error.js';

/** Largest profile picture, in bytes of the (scaled) image: 1 MiB. */
export const AVATAR_MAX_BYTES = 1024 * 1024;

/** Largest side of a profile picture in pixels (the app sends 256): a bigger one is refused. */
export const AVATAR_MAX_SIDE = 2048;

/** Image types a profile picture may have. */
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
/** A profile picture's image type. */
export type AvatarType = (typeof AVATAR_TYPES)[number];

const startsWith = (bytes: Uint8Array, prefix: number[], at = 0): boolean =>
  bytes.length >= at + prefix.length && prefix.every((b, i) => bytes[at + i] === b);

/**
 * The image type of some bytes, by their first bytes (PNG, JPEG, WebP), whatever a file name
 * or a sender claims.
 * @param bytes the image
 * @returns its type, or undefined when it is none of {@link AVATAR_TYPES}
 */
export function sniffAvatarType(bytes: Uint8Array): AvatarType | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  // "RIFF" <size> "WEBP"
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8))
    return 'image/webp';
  return undefined;
}

/**
 * Checks a profile picture before it is sent or after it is received.
 * @param bytes the image
 * @returns its type (from its bytes)
 * @throws {ApiError} `avatar_empty`, `avatar_too_large` (over {@link AVATAR_MAX_BYTES}),
 *   `avatar_not_image` (not a PNG, JPEG or WebP image, or one whose header declares more than
 *   {@link AVATAR_MAX_SIDE} pixels a side: a few KiB can declare gigabytes once decoded)
 */
export function checkAvatarImage(bytes: Uint8Array): AvatarType {
  if (bytes.length === 0) throw new ApiError(0, 'avatar_empty', 'the picture is empty');
  if (bytes.length > AVATAR_MAX_BYTES)
    throw new ApiError(
      0,
      'avatar_too_large',
      `a profile picture is at most ${AVATAR_MAX_BYTES / 1024} KiB`,
    );
  const type = sniffAvatarType(bytes);
  if (!type)
    throw new ApiError(0, 'avatar_not_image', 'a profile picture is a PNG, JPEG or WebP image');
  const size = imageSize(bytes);
  if (!size || !size.width || !size.height || size.width > AVATAR_MAX_SIDE || size.height > AVATAR_MAX_SIDE)
    throw new ApiError(
      0,
      'avatar_not_image',
      `a profile picture is at most ${AVATAR_MAX_SIDE}×${AVATAR_MAX_SIDE} pixels`,
    );
  return type;
}
