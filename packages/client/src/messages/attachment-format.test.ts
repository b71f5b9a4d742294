import { describe, expect, it } from 'vitest';
import { FORMAT_VERSION, type PlaintextMessage } from './message.schema.js';
import {
  decodePlaintext,
  encodePlaintext,
  formatVersionOf,
  readPlaintextJson,
} from './plaintext-codec.js';

const id = '3f2a8c1e-1b2c-4d5e-8f90-123456789abc';
const conversationId = '0b6b3f8e-6c1d-4b8e-9a55-0d2f1f4b9e21';
const pointer = {
  id: '9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
  key: 'A'.repeat(43) + '=',
  digest: 'B'.repeat(43) + '=',
  size: 1234,
  contentType: 'image/jpeg',
  fileName: 'p.jpg',
};
const thumbnail = { contentType: 'image/webp' as const, width: 320, height: 240, data: 'UklGRhYAAABXRUJQVlA4WAoAAAAAAAAAPwEA7wAA' }; // a WebP header of 320×240
const base = {
  v: FORMAT_VERSION,
  id,
  conversationId,
  sentAt: 1_765_000_000_000,
  kind: 'attachment' as const,
};

describe('the attachment descriptor grows a thumbnail and a voice flag', () => {
  it('when a photo carries a thumbnail or a voice note its length, then it round-trips whole as version 2', () => {
    const photo: PlaintextMessage = { ...base, attachment: { ...pointer, thumbnail } };
    const voice: PlaintextMessage = {
      ...base,
      attachment: { ...pointer, contentType: 'audio/webm', voice: { durationMs: 4200 } },
    };
    for (const plain of [photo, voice]) {
      expect(decodePlaintext(encodePlaintext(plain))).toMatchObject({
        type: 'known',
        plain,
        unknownFields: [],
      });
      expect(formatVersionOf(plain)).toBe(2);
    }
    // without them an attachment stays version 1 (clients from before open kinds read it)
    expect(formatVersionOf({ ...base, attachment: pointer })).toBe(1);
  });

  it('when a thumbnail is too big or of another type, then the plaintext is refused', () => {
    const big = { ...thumbnail, data: 'A'.repeat(16_388) };
    expect(() =>
      encodePlaintext({ ...base, attachment: { ...pointer, thumbnail: big } }),
    ).toThrow();
    const svg = { ...thumbnail, contentType: 'image/svg+xml' } as unknown as typeof thumbnail;
    expect(() =>
      encodePlaintext({ ...base, attachment: { ...pointer, thumbnail: svg } }),
    ).toThrow();
  });

  it('when a newer writer adds a field to the descriptor, then this reader keeps the file and names the field', () => {
    const newer = {
      ...base,
      v: 3,
      attachment: { ...pointer, thumbnail, blurhash: 'LEHV6nWB2yk8' },
    };
    const decoded = readPlaintextJson(JSON.stringify(newer));
    expect(decoded).toMatchObject({ type: 'known', unknownFields: ['attachment.blurhash'] });
    expect(decoded.type === 'known' && decoded.plain.attachment).toEqual({ ...pointer, thumbnail });
  });
});
