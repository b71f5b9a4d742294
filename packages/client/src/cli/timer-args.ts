import { DisappearTimer } from '../messages/message.schema.js';

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Reads a disappearing timer from the command line: `off`, or a number with a unit (`5m`, `1h`,
 * `1d`, `1w`, `4w`; `s` for seconds).
 * @param text the argument
 * @returns seconds, or null for off
 * @throws {Error} when it is neither
 */
export function parseTimerArg(text: string): number | null {
  if (text === 'off') return null;
  const m = /^(\d+)([smhdw])$/.exec(text);
  const seconds = m ? Number(m[1]) * (UNITS[m[2] ?? ''] ?? 0) : NaN;
  if (!DisappearTimer.safeParse(seconds).success || seconds === null) {
    throw new Error(`not a timer: ${text} (use off, 5m, 1h, 1d, 1w or 4w)`);
  }
  return seconds;
}

/**
 * Words a timer change for `listen`.
 * @param seconds the new timer (null: off)
 * @returns e.g. "disappearing messages: 3600 s" or "disappearing messages: off"
 */
export function describeTimer(seconds: number | null | undefined): string {
  return seconds ? `disappearing messages: ${seconds} s` : 'disappearing messages: off';
}
