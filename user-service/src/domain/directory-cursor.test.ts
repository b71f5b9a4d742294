import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDirectoryCursor, encodeDirectoryCursor, escapeLike } from './directory-cursor.js';

describe('directory cursor', () => {
  it('when a cursor is encoded, then it decodes to the same position', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.string({ maxLength: 32 }), (rank, username) => {
        expect(decodeDirectoryCursor(encodeDirectoryCursor({ rank, username }))).toEqual({ rank, username });
      }),
    );
  });
  it('when a client sends any other text, then it is rejected, never thrown', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const decoded = decodeDirectoryCursor(text);
        if (decoded) expect(decoded.rank).toBeGreaterThanOrEqual(0);
      }),
    );
    expect(decodeDirectoryCursor(Buffer.from('[9,"x"]').toString('base64url'))).toBeUndefined();
  });
  it('when a query holds LIKE wildcards, then they are escaped', () => {
    expect(escapeLike('a_b%c\\')).toBe('a\\_b\\%c\\\\');
  });
});
