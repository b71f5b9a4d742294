// Draws the app icons of the web app manifest (public/icons/*.png): the CipherChat logo (a blue
// speech bubble with a keyhole, as public/logo.png) at 192 and 512 px, and a "maskable" 512 px
// variant on a full-bleed background with the logo inside the 80 % safe zone. No image library:
// shapes are sampled 4×4 per pixel (anti-aliased) and written as RGBA PNG with node:zlib.
// Run: node web-client/scripts/draw-icons.mjs
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { Buffer } from 'node:buffer';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BLUE = [0x25, 0x63, 0xeb];
const WHITE = [0xff, 0xff, 0xff];
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');

/** Inside a rounded rectangle. */
function inRoundRect(x, y, x0, y0, x1, y1, r) {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** Inside the triangle a, b, c. */
function inTriangle(x, y, [ax, ay], [bx, by], [cx, cy]) {
  const s = (px, py, qx, qy, rx, ry) => (px - rx) * (qy - ry) - (qx - rx) * (py - ry);
  const d1 = s(x, y, ax, ay, bx, by);
  const d2 = s(x, y, bx, by, cx, cy);
  const d3 = s(x, y, cx, cy, ax, ay);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
}

/** The logo on a 64-unit grid: 'bubble', 'hole' or null. */
function logoAt(u, v) {
  const hole =
    (u - 32) ** 2 + (v - 22) ** 2 <= 5.2 ** 2 ||
    (v >= 22 && v <= 36 && Math.abs(u - 32) <= 2.4 + (v - 22) * 0.12);
  const bubble =
    inRoundRect(u, v, 5, 8, 59, 46, 9) || inTriangle(u, v, [13, 44], [27, 44], [14, 58]);
  if (bubble && hole) return 'hole';
  return bubble ? 'bubble' : null;
}

/** Pixel colour (RGBA) of the icon at (x, y) for `size`. */
function pixel(x, y, size, maskable) {
  const n = 4;
  let r = 0,
    g = 0,
    b = 0,
    a = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const px = x + (i + 0.5) / n;
      const py = y + (j + 0.5) / n;
      // Maskable: the logo fills the central 70 % (inside the 80 % safe circle), white around it.
      const scale = maskable ? (size * 0.7) / 64 : size / 64;
      const offset = maskable ? size * 0.15 : 0;
      const part = logoAt((px - offset) / scale, (py - offset) / scale);
      const colour = part === 'bubble' ? BLUE : part === 'hole' || maskable ? WHITE : null;
      if (!colour) continue;
      r += colour[0];
      g += colour[1];
      b += colour[2];
      a += 1;
    }
  if (a === 0) return [0, 0, 0, 0];
  return [Math.round(r / a), Math.round(g / a), Math.round(b / a), Math.round((255 * a) / (n * n))];
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** @returns the PNG file of one icon */
function png(size, maskable) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const p = pixel(x, y, size, maskable);
      raw.set(p, y * (size * 4 + 1) + 1 + x * 4);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

mkdirSync(out, { recursive: true });
for (const [name, size, maskable] of [
  ['icon-192.png', 192, false],
  ['icon-512.png', 512, false],
  ['icon-maskable-512.png', 512, true],
]) {
  writeFileSync(join(out, name), png(size, maskable));
  console.log(`wrote public/icons/${name}`);
}
