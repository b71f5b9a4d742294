/**
 * @param at epoch milliseconds (another person's clock: any number)
 * @returns ISO 8601, or `unknown time` when a `Date` cannot hold it (`toISOString` would throw
 *   and end `listen`)
 */
export function timeText(at: number): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? 'unknown time' : d.toISOString();
}
