/** Longest side of a thumbnail in pixels. */
export const THUMBNAIL_MAX_PX = 320;
/** Largest thumbnail in bytes: it travels inside every device's copy of the message. */
export const THUMBNAIL_MAX_BYTES = 12 * 1024;

/** A thumbnail as the SDK sends it inside the message. */
export interface Thumbnail {
  contentType: 'image/jpeg' | 'image/webp';
  width: number;
  height: number;
  /** base64 of the image bytes. */
  data: string;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function encode(
  bitmap: ImageBitmap,
  w: number,
  h: number,
  type: Thumbnail['contentType'],
  quality: number,
): Promise<Blob | null> {
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d');
    if (!ctx) return null;
    ctx.drawImage(bitmap, 0, 0, w, h);
    return canvas.convertToBlob({ type, quality });
  }
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0, w, h);
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

/**
 * Makes a small JPEG (or WebP) preview of an image file in the browser: at most
 * {@link THUMBNAIL_MAX_PX} on its longest side and {@link THUMBNAIL_MAX_BYTES}, smaller and
 * coarser until it fits.
 * @param file the image
 * @returns the thumbnail, or undefined when the file is not an image this browser decodes
 */
export async function makeThumbnail(file: Blob): Promise<Thumbnail | undefined> {
  if (
    !/^image\/(png|jpeg|gif|webp|avif|bmp)$/.test(file.type) ||
    typeof createImageBitmap === 'undefined'
  )
    return undefined;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return undefined;
  }
  try {
    for (const [px, quality] of [
      [THUMBNAIL_MAX_PX, 0.7],
      [THUMBNAIL_MAX_PX, 0.5],
      [200, 0.5],
      [120, 0.5],
    ] as const) {
      const scale = Math.min(1, px / Math.max(bitmap.width, bitmap.height));
      const w = Math.max(1, Math.round(bitmap.width * scale));
      const h = Math.max(1, Math.round(bitmap.height * scale));
      for (const type of ['image/webp', 'image/jpeg'] as const) {
        const blob = await encode(bitmap, w, h, type, quality);
        // A browser without the encoder answers PNG: try the next type.
        if (!blob || blob.type !== type || blob.size > THUMBNAIL_MAX_BYTES) continue;
        return {
          contentType: type,
          width: w,
          height: h,
          data: toBase64(new Uint8Array(await blob.arrayBuffer())),
        };
      }
    }
    return undefined;
  } finally {
    bitmap.close();
  }
}
