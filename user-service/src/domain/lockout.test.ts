import { describe, expect, it } from 'vitest';
import { lockoutSeconds } from './lockout.js';

describe('lockoutSeconds', () => {
  it('when the account is locked again and again, then the lockout doubles up to the cap', () => {
    expect([1, 2, 3, 4, 7, 100].map((n) => lockoutSeconds(n, 60, 3600))).toEqual([60, 120, 240, 480, 3600, 3600]);
  });
  it('when given nonsense counts, then it still answers the base', () => {
    expect(lockoutSeconds(0, 60, 3600)).toBe(60);
    expect(lockoutSeconds(-5, 60, 3600)).toBe(60);
  });
});
