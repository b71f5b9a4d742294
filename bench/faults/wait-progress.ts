/**
 * A wait for a count that should reach a target (events a consumer works through), bounded by
 * progress rather than by a fixed time: a backlog that is still draining gets more time, a
 * stalled one fails fast. It only waits; whether the final count is enough is the caller's check,
 * so a count that stops short is reported as short, never as success.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** How the wait is bounded. */
export interface ProgressBounds {
  /** Give up once the count has not risen for this long (ms). */
  noProgressMs: number;
  /** Give up after this long in all (ms), even while the count still rises. */
  hardCapMs: number;
  /** Time between two reads (ms). */
  pollMs: number;
}

/** What the wait saw. */
export interface ProgressResult {
  /** The last count read. */
  count: number;
  /** Why it stopped: the target was reached, the count stalled, or the hard cap was hit. */
  outcome: 'reached' | 'stalled' | 'capped';
  /** How long it waited (ms). */
  waitedMs: number;
}

/**
 * Reads `read()` until it reaches `target`, the count stops rising for `noProgressMs`, or
 * `hardCapMs` has passed.
 * @param read returns the current count
 * @param target the count that means done
 * @param bounds the limits ({@link ProgressBounds})
 * @returns the last count and why the wait ended
 */
export async function waitWhileRising(
  read: () => Promise<number>,
  target: number,
  bounds: ProgressBounds,
): Promise<ProgressResult> {
  const start = Date.now();
  let count = await read();
  let best = count;
  let lastRise = start;
  for (;;) {
    const now = Date.now();
    if (count >= target) return { count, outcome: 'reached', waitedMs: now - start };
    if (now - lastRise >= bounds.noProgressMs)
      return { count, outcome: 'stalled', waitedMs: now - start };
    if (now - start >= bounds.hardCapMs) return { count, outcome: 'capped', waitedMs: now - start };
    await sleep(bounds.pollMs);
    count = await read();
    if (count > best) {
      best = count;
      lastRise = Date.now();
    }
  }
}
