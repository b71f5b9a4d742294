import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { i18next as i18n } from '../i18n/index.js';
import { render } from '../testing/render.js';
import { RelativeTime } from './RelativeTime.js';
import { exactTime, relativeTime } from './time-format.js';

const NOW = new Date(2026, 11, 7, 15, 0, 0).getTime();
const MIN = 60_000;

describe('relative times', () => {
  it('when a time is recent, then it reads as now, minutes or hours ago', () => {
    expect(relativeTime(NOW - 20_000, NOW, 'en')).toBe('now');
    expect(relativeTime(NOW - 2 * MIN, NOW, 'en')).toBe('2 minutes ago');
    expect(relativeTime(NOW - 1 * MIN, NOW, 'en')).toBe('1 minute ago');
    expect(relativeTime(NOW - 3 * 60 * MIN, NOW, 'en')).toBe('3 hours ago');
  });

  it('when a time is on an earlier day, then it reads as yesterday, days ago, or the date after a week', () => {
    const yesterdayMorning = new Date(2026, 11, 6, 8, 0).getTime();
    expect(relativeTime(yesterdayMorning, NOW, 'en')).toBe('yesterday');
    expect(relativeTime(new Date(2026, 11, 4, 12, 0).getTime(), NOW, 'en')).toBe('3 days ago');
    expect(relativeTime(new Date(2026, 10, 1, 12, 0).getTime(), NOW, 'en')).toBe('Nov 1, 2026');
  });

  it('when the language is German, then the words are German', () => {
    expect(relativeTime(NOW - 2 * MIN, NOW, 'de')).toBe('vor 2 Minuten');
    expect(relativeTime(new Date(2026, 11, 6, 8, 0).getTime(), NOW, 'de')).toBe('gestern');
  });

  it('when a time is ahead (another clock) or no Date can hold it, then it reads forwards or as nothing', () => {
    expect(relativeTime(NOW + 5 * MIN, NOW, 'en')).toBe('in 5 minutes');
    expect(relativeTime(9_000_000_000_000_000, NOW, 'en')).toBe('');
    expect(relativeTime(Number.NaN, NOW, 'en')).toBe('');
    expect(exactTime(9_000_000_000_000_000, 'en')).toBe('');
  });
});

describe('<RelativeTime>', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('when shown, then it has the exact time on hover and in dateTime, and moves on every minute', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(NOW);
    await act(async () => i18n.changeLanguage('en'));
    const at = NOW - 30_000;
    const { container, unmount } = await render(<RelativeTime at={at} />);
    const time = container.querySelector('time')!;
    expect(time.textContent).toBe('now');
    expect(time.dateTime).toBe(new Date(at).toISOString());
    expect(time.title).toBe(exactTime(at, 'en'));
    expect(time.title).toContain('2026');
    await act(async () => vi.advanceTimersByTime(2 * MIN));
    expect(time.textContent).toBe('2 minutes ago');
    unmount();
  });
});
