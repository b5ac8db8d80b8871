/**
 * The confidence of a speed-up measured by interleaved runs. Each round times the
 * reference and the candidate back to back, so machine noise that lasts longer than a
 * round lands on both: the per-round ratios reference/candidate are paired samples.
 * Their log is roughly normal; the interval is the geometric mean ratio times
 * exp(+-z * sd / sqrt(n)).
 */

/** A ratio with its 95% interval (low <= estimate <= high). */
export interface RatioInterval {
  /** Geometric mean of the per-round ratios. */
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  /** Rounds it rests on. */
  readonly rounds: number;
}

/** z of a two-sided 95% interval. */
const Z95 = 1.96;

/** The interval of reference/candidate over paired rounds; undefined with fewer than 2 rounds or a non-positive time. */
export function pairedRatioInterval(referenceMs: readonly number[], candidateMs: readonly number[]): RatioInterval | undefined {
  const n = Math.min(referenceMs.length, candidateMs.length);
  if (n < 2) return undefined;
  const logs: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = referenceMs[i]!;
    const b = candidateMs[i]!;
    if (!(a > 0 && b > 0)) return undefined;
    logs.push(Math.log(a / b));
  }
  const mean = logs.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(logs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = (Z95 * sd) / Math.sqrt(n);
  return { estimate: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half), rounds: n };
}

/** Whether the interval lies wholly on one side of `threshold`: more rounds would not change the verdict (at 95%). */
export function decidedAgainst(interval: RatioInterval | undefined, threshold: number): boolean {
  return interval !== undefined && (interval.low >= threshold || interval.high < threshold);
}
