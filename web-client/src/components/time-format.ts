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
