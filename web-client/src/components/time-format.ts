/**
 * Safe time formatting: a message's times come from other people's clocks (and old stored
 * data), and `Date#toISOString` throws on a time a `Date` cannot hold. These return '' instead.
 */

/**
 * @param at epoch milliseconds
 * @returns the `Date`, or undefined when `at` is not a time a `Date` can hold
 */
function dateOf(at: number | undefined): Date | undefined {
  if (at === undefined) return undefined;
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * @param at epoch milliseconds
 * @returns ISO 8601 (for a `<time dateTime>`), or '' when invalid
 */
export function isoTime(at: number | undefined): string {
  return dateOf(at)?.toISOString() ?? '';
}

/**
 * @param at epoch milliseconds
 * @param options `Intl.DateTimeFormat` options
 * @returns the local time of day, or '' when invalid
 */
export function localTime(at: number | undefined, options?: Intl.DateTimeFormatOptions): string {
  return dateOf(at)?.toLocaleTimeString([], options) ?? '';
}

/**
 * @param at epoch milliseconds
 * @param options `Intl.DateTimeFormat` options
 * @returns the local date and time, or '' when invalid
 */
export function localDateTime(
  at: number | undefined,
  options?: Intl.DateTimeFormatOptions,
): string {
  return dateOf(at)?.toLocaleString([], options) ?? '';
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Calendar days from `a` to `b` in local time (DST-safe: counts midnights). */
function calendarDays(a: Date, b: Date): number {
  const day = (d: Date) => Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  return Math.round((day(b) - day(a)) / (24 * HOUR));
}

/**
 * A time relative to now, worded by `Intl.RelativeTimeFormat` in `language`: "now",
 * "5 minutes ago", "3 hours ago", "yesterday", "4 days ago"; older than a week, the date.
 * A time ahead of `now` (another person's clock) reads the same way forwards ("in 2 minutes").
 * @param at epoch milliseconds
 * @param now epoch milliseconds
 * @param language a BCP 47 tag (the UI language)
 * @returns the words, or '' when `at` is not a time a `Date` can hold
 */
export function relativeTime(at: number | undefined, now: number, language?: string): string {
  const then = dateOf(at);
  if (!then) return '';
  const rtf = new Intl.RelativeTimeFormat(language, { numeric: 'auto' });
  const diff = then.getTime() - now;
  const abs = Math.abs(diff);
  if (abs < MINUTE) return rtf.format(0, 'second');
  if (abs < HOUR) return rtf.format(Math.trunc(diff / MINUTE), 'minute');
  const days = calendarDays(new Date(now), then);
  if (days === 0 || abs < 6 * HOUR) return rtf.format(Math.trunc(diff / HOUR), 'hour');
  if (Math.abs(days) < 7) return rtf.format(days, 'day');
  return then.toLocaleDateString(language, { dateStyle: 'medium' });
}

/**
 * The exact date and time for a hover title.
 * @param at epoch milliseconds
 * @param language a BCP 47 tag (the UI language)
 * @returns e.g. "7 Dec 2026, 15:02:07", or '' when invalid
 */
export function exactTime(at: number | undefined, language?: string): string {
  return dateOf(at)?.toLocaleString(language, { dateStyle: 'medium', timeStyle: 'medium' }) ?? '';
}
