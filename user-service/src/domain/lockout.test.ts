import { describe, expect, it } from 'vitest';
import { ipBucket, lockoutSeconds } from './lockout.js';

describe('lockoutSeconds', () => {
  it('when the account is locked again and again, then the lockout doubles up to the cap', () => {
    expect([1, 2, 3, 4, 7, 100].map((n) => lockoutSeconds(n, 60, 3600))).toEqual([
      60, 120, 240, 480, 3600, 3600,
    ]);
  });
  it('when given nonsense counts, then it still answers the base', () => {
    expect(lockoutSeconds(0, 60, 3600)).toBe(60);
    expect(lockoutSeconds(-5, 60, 3600)).toBe(60);
  });
});

describe('ipBucket', () => {
  it('when given IPv4 or IPv4-mapped IPv6, then it counts the address itself', () => {
    expect(ipBucket('203.0.113.9')).toBe('203.0.113.9');
    expect(ipBucket('::ffff:203.0.113.9')).toBe('203.0.113.9');
  });
  it('when given two IPv6 addresses of one /64, then they share a bucket; another /64 does not', () => {
    expect(ipBucket('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipBucket('2001:db8:1:3::1')).not.toBe(ipBucket('2001:db8:1:2::1'));
  });
});
