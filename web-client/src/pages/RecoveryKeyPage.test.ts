import { describe, expect, it } from 'vitest';
import { groupKey } from './RecoveryKeyPage.js';

describe('groupKey', () => {
  it('when the SDK gives a dashed key, then it is shown in blocks of four separated by spaces', () => {
    expect(groupKey('OB7A-W5NL-JNJE-2P')).toBe('OB7A W5NL JNJE 2P');
  });

  it('when the key has stray whitespace, then the blocks are still of four', () => {
    expect(groupKey(' ABCD EF\nGHIJ ')).toBe('ABCD EFGH IJ');
  });
});
