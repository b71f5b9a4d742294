import { describe, expect, it } from 'vitest';
import { backoffMs, decideSend, DEFAULT_PREFERENCES, presentPreferences, unsubscribe, unsubscribeKindFor } from './policy.js';

const base = { prefs: DEFAULT_PREFERENCES, sentLastHour: 0, hourlyLimit: 5 };

describe('send policy', () => {
  it('when the address is unverified or unknown, then only the mails asked for with it go out: verification, reset, registration attempt', () => {
    expect(decideSend({ ...base, kind: 'verify_email', emailVerified: false })).toEqual({ send: true });
    // a reset reaches an unverified address: it is how its owner takes back a squatted account
    expect(decideSend({ ...base, kind: 'password_reset', emailVerified: false })).toEqual({ send: true });
    expect(decideSend({ ...base, kind: 'password_reset', emailVerified: undefined })).toEqual({ send: true });
    expect(decideSend({ ...base, kind: 'registration_attempt', emailVerified: false })).toEqual({ send: true });
    expect(decideSend({ ...base, kind: 'registration_attempt', emailVerified: undefined })).toEqual({ send: true });
    expect(decideSend({ ...base, sentLastHour: 500, prefs: unsubscribe(DEFAULT_PREFERENCES, 'all'), kind: 'registration_attempt', emailVerified: true })).toEqual({ send: true });
    for (const kind of ['welcome', 'new_login', 'digest'] as const) {
      expect(decideSend({ ...base, kind, emailVerified: false })).toEqual({ send: false, reason: 'unverified' });
      expect(decideSend({ ...base, kind, emailVerified: undefined })).toEqual({ send: false, reason: 'unknown_user' });
      expect(decideSend({ ...base, kind, emailVerified: true })).toEqual({ send: true });
    }
  });

  it('when a kind is switched off or the hourly limit is reached, then optional mail stops but requested mail does not', () => {
    const off = unsubscribe(DEFAULT_PREFERENCES, 'all');
    expect(decideSend({ ...base, prefs: off, kind: 'digest', emailVerified: true })).toEqual({ send: false, reason: 'disabled' });
    expect(decideSend({ ...base, prefs: off, kind: 'password_reset', emailVerified: true })).toEqual({ send: true });
    expect(decideSend({ ...base, sentLastHour: 5, kind: 'new_login', emailVerified: true })).toEqual({ send: false, reason: 'rate_limited' });
    expect(decideSend({ ...base, sentLastHour: 500, kind: 'verify_email', emailVerified: false })).toEqual({ send: true });
  });

  it('when unsubscribing from one kind, then only that kind is switched off; requested mails carry an "all" link', () => {
    expect(unsubscribe(DEFAULT_PREFERENCES, 'digest')).toMatchObject({ welcome: true, newLogin: true, digest: false });
    expect(unsubscribeKindFor('verify_email')).toBe('all');
    expect(unsubscribeKindFor('digest')).toBe('digest');
  });

  it('when presenting defaults, then the delay is whole minutes and updatedAt is null', () => {
    expect(presentPreferences(DEFAULT_PREFERENCES, 15)).toEqual({ email: { welcome: true, newLogin: true, digest: true }, digestDelayMinutes: 15, digestContent: 'sender', updatedAt: null });
    expect(presentPreferences(DEFAULT_PREFERENCES, 0.02).digestDelayMinutes).toBe(1);
  });

  it('when digests keep failing, then the backoff doubles up to the cap', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffMs(a, 2000, 300_000))).toEqual([2000, 4000, 8000, 16000, 300_000]);
  });
});
