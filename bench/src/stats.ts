import { randomInt } from 'node:crypto';

/** Latency summary in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Summarises latency samples (nearest-rank percentiles).
 * @param samples milliseconds, any order (sorted in place)
 * @returns the summary (zeros when empty)
 */
export function summarize(samples: Float64Array | number[]): LatencySummary {
  const n = samples.length;
  if (n === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))] ?? 0;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: n, p50: round(at(50)), p95: round(at(95)), p99: round(at(99)), max: round(sorted[n - 1] ?? 0), mean: round(sum / n) };
}

/**
 * A fixed-capacity uniform sample (reservoir sampling, Algorithm R) so a long step cannot grow
 * the generator's memory without bound.
 */
export class Reservoir {
  private readonly buf: Float64Array;
  private seen = 0;
  /** @param capacity most samples kept */
  constructor(private readonly capacity = 200_000) {
    this.buf = new Float64Array(capacity);
  }
  /** @param v a sample */
  add(v: number): void {
    if (this.seen < this.capacity) this.buf[this.seen] = v;
    else {
      const j = randomInt(0, this.seen + 1);
      if (j < this.capacity) this.buf[j] = v;
    }
    this.seen++;
  }
  /** @returns the kept samples */
  values(): Float64Array {
    return this.buf.slice(0, Math.min(this.seen, this.capacity));
  }
  /** @returns how many were offered */
  get total(): number {
    return this.seen;
  }
}

/**
 * Rounds to 0.01.
 * @param v value
 * @returns rounded value
 */
export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
