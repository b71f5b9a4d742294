import { describe, expect, it } from 'vitest';
import { AVATAR_MAX_BYTES, checkAvatarImage, sniffAvatarType } from './avatar-rules.js';

describe('avatar rules', () => {
  it('tells PNG, JPEG and WebP apart by their bytes, and nothing else', () => {
    expect(
      sniffAvatarType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])),
    ).toBe('image/png');
    expect(sniffAvatarType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffAvatarType(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(
      sniffAvatarType(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>')),
    ).toBeUndefined();
    expect(sniffAvatarType(new TextEncoder().encode('GIF89a'))).toBeUndefined();
  });

  it('refuses an empty, oversized or non-image picture with its own code', () => {
    expect(() => checkAvatarImage(new Uint8Array())).toThrow(
      expect.objectContaining({ code: 'avatar_empty' }),
    );
    const big = new Uint8Array(AVATAR_MAX_BYTES + 1);
    // A JPEG header (APP0, then a frame of 256×256): what is checked before any decoding.
    big.set([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 0x11, 8, 1, 0, 1, 0, 3]);
    expect(() => checkAvatarImage(big)).toThrow(
      expect.objectContaining({ code: 'avatar_too_large' }),
    );
    expect(() => checkAvatarImage(new Uint8Array([1, 2, 3]))).toThrow(
      expect.objectContaining({ code: 'avatar_not_image' }),
    );
    expect(checkAvatarImage(big.slice(0, AVATAR_MAX_BYTES))).toBe('image/jpeg');
  });
});
