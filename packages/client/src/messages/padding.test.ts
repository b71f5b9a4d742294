import { describe, expect, it } from 'vitest';
import { PADDING_BLOCK, PaddingError, pad, unpad } from './padding.js';
import { MIN_PADDED_BLOCKS, decodePlaintext, encodePlaintext } from './plaintext-codec.js';
import { utf8 } from '../protocol/bytes.js';
import type { PlaintextMessage } from './message.schema.js';

const bytes = (n: number, fill = 0x41) => new Uint8Array(n).fill(fill);

describe('Signal padding', () => {
  it.each([
    [0, 160],
    [1, 160],
    [159, 160],
    [160, 320],
    [161, 320],
    [319, 320],
    [320, 480],
  ])('when %i bytes are padded, then the result is %i bytes: the bytes, 0x80, zeros', (n, expected) => {
    const input = bytes(n);
    const out = pad(input);
    expect(out.length).toBe(expected);
    expect(out.length % PADDING_BLOCK).toBe(0);
    expect([...out.subarray(0, n)]).toEqual([...input]);
    expect(out[n]).toBe(0x80);
    expect(out.subarray(n + 1).every((b) => b === 0)).toBe(true);
    expect([...unpad(out)]).toEqual([...input]);
  });

  it('when the content itself ends in zero bytes or 0x80, then unpad gives it back exactly', () => {
    for (const input of [new Uint8Array([1, 0, 0]), new Uint8Array([0x80]), new Uint8Array([0x80, 0]), new Uint8Array(159)]) {
      expect([...unpad(pad(input))]).toEqual([...input]);
    }
  });

  it('when a minimum of blocks is asked, then short inputs take that many blocks', () => {
    expect(pad(bytes(3), 160, 2).length).toBe(320);
    expect(pad(bytes(400), 160, 2).length).toBe(480);
    expect(() => pad(bytes(3), 0)).toThrow(RangeError);
  });

  it('when the bytes carry no 0x80 terminator (all zeros, empty, garbage), then unpad refuses them', () => {
    expect(() => unpad(new Uint8Array(160))).toThrow(PaddingError);
    expect(() => unpad(new Uint8Array(0))).toThrow(PaddingError);
    expect(() => unpad(new Uint8Array([1, 2, 3, 0, 0]))).toThrow(PaddingError);
    expect(() => unpad(bytes(160, 0x7f))).toThrow(PaddingError);
  });
});

describe('plaintext encoding', () => {
  const id = '3f2a8c1e-1b2c-4d5e-8f90-123456789abc';
  const conversationId = '0b6b3f8e-6c1d-4b8e-9a55-0d2f1f4b9e21';
  const base = { v: 1 as const, id, conversationId, sentAt: 1_765_000_000_000 };
  const kinds: PlaintextMessage[] = [
    { ...base, kind: 'text', text: 'ok' },
    { ...base, kind: 'text', text: 'see you at 8, at the usual place' },
    { ...base, kind: 'receipt', receipt: { type: 'read', messageIds: [id] } },
    { ...base, kind: 'receipt', receipt: { type: 'delivered', messageIds: [id, conversationId] } },
    { ...base, kind: 'typing', typing: { on: true } },
    { ...base, kind: 'typing', typing: { on: false } },
  ];

  it('when a short text, receipts and typing are encoded, then they all take the same two blocks and decode back', () => {
    for (const plain of kinds) {
      const encoded = encodePlaintext(plain);
      expect(encoded.length).toBe(MIN_PADDED_BLOCKS * PADDING_BLOCK);
      expect(decodePlaintext(encoded)).toMatchObject({ type: 'known', plain, unknownFields: [] });
    }
  });

  it('when a long text is encoded, then it is padded to a multiple of 160 bytes', () => {
    const encoded = encodePlaintext({ ...base, kind: 'text', text: 'x'.repeat(1000) });
    expect(encoded.length % PADDING_BLOCK).toBe(0);
    expect(encoded.length).toBeGreaterThan(1000);
  });

  it('when an older client sends unpadded JSON, then it is still accepted', () => {
    const plain = kinds[0]!;
    expect(decodePlaintext(utf8(JSON.stringify(plain)))).toMatchObject({ type: 'known', plain });
  });

  it('when the bytes are garbage, unterminated, or padded non-JSON, then decoding throws', () => {
    expect(() => decodePlaintext(new Uint8Array(320))).toThrow(PaddingError);
    expect(() => decodePlaintext(bytes(50, 0x42))).toThrow(PaddingError);
    expect(() => decodePlaintext(pad(utf8('not json')))).toThrow(SyntaxError);
    expect(() => decodePlaintext(pad(utf8(JSON.stringify({ ...kinds[0], v: 0 }))))).toThrow();
    expect(() => decodePlaintext(pad(utf8(JSON.stringify({ ...kinds[0], text: 42 }))))).toThrow();
  });
});
