import { describe, expect, it } from 'vitest';
import { checkAvatarImage } from '../client/avatar-rules.js';
import { AttachmentThumbnail } from '../messages/message.schema.js';
import { toBase64 } from '../protocol/bytes.js';
import { imageSize } from './image-size.js';

/** A PNG signature and IHDR declaring w×h (no pixel data: the header is all that is read). */
function pngHeader(w: number, h: number): Uint8Array {
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(b.buffer).setUint32(16, w);
  new DataView(b.buffer).setUint32(20, h);
  return b;
}

/** A JPEG with an APP0 segment, then a baseline SOF0 declaring w×h. */
function jpegHeader(w: number, h: number): Uint8Array {
  return new Uint8Array([
    0xff,
    0xd8,
    0xff,
    0xe0,
    0x00,
    0x04,
    0x00,
    0x00,
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    h >> 8,
    h & 0xff,
    w >> 8,
    w & 0xff,
    0x03,
  ]);
}

describe('declared image sizes', () => {
  it('when a PNG or JPEG header declares a size, then it is read without decoding', () => {
    expect(imageSize(pngHeader(64, 48))).toEqual({ width: 64, height: 48 });
    expect(imageSize(jpegHeader(320, 200))).toEqual({ width: 320, height: 200 });
    expect(imageSize(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });

  it('when a length-less TEM marker precedes the frame, then the parser does not lose its place', () => {
    // FF01 (TEM) has no length; read as one it would jump into the APP1 block after it.
    const jpeg = new Uint8Array([
      0xff,
      0xd8,
      0xff,
      0x01,
      ...jpegHeader(30_000, 30_000).subarray(2),
    ]);
    expect(imageSize(jpeg)).toEqual({ width: 30_000, height: 30_000 });
  });

  it('when a profile picture declares 30000×30000 pixels in a few bytes, then it is refused', () => {
    expect(() => checkAvatarImage(pngHeader(30_000, 30_000))).toThrow(/pixels/);
    expect(checkAvatarImage(pngHeader(256, 256))).toBe('image/png');
  });

  it('when a thumbnail header does not match its stated size, then the schema refuses it', () => {
    const thumb = (w: number, h: number, data: Uint8Array) => ({
      contentType: 'image/png' as const,
      width: w,
      height: h,
      data: toBase64(data),
    });
    expect(AttachmentThumbnail.safeParse(thumb(64, 64, pngHeader(64, 64))).success).toBe(true);
    expect(AttachmentThumbnail.safeParse(thumb(64, 64, pngHeader(9000, 9000))).success).toBe(false);
  });
});
