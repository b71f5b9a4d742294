import { describe, expect, it } from 'vitest';
import { timeText } from './time-text.js';

describe('chat-cli message times', () => {
  it('when a time is beyond what a Date holds, then it prints "unknown time" instead of throwing', () => {
    expect(timeText(9_000_000_000_000_000)).toBe('unknown time');
    expect(timeText(Number.NaN)).toBe('unknown time');
    expect(timeText(Date.UTC(2026, 0, 1))).toBe('2026-01-01T00:00:00.000Z');
  });
});
