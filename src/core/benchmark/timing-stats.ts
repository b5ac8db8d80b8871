/** Summary of a set of timings, in milliseconds, after dropping outliers. */
export interface TimingStats {
  readonly medianMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
  readonly meanMs: number;
  readonly sdMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Timings kept after dropping those beyond `outlierSigma` standard deviations. */
  readonly samples: number;
  readonly outliersDropped: number;
}

/**
 * Drops timings further than `sigma` standard deviations from the mean (one pass, as
 * the shogi trainer's benchmarker did), then summarises the rest. Percentiles use
 * linear interpolation between closest ranks.
 */
export function summariseTimings(timingsMs: readonly number[], sigma: number): TimingStats {
  if (timingsMs.length === 0) throw new Error('summariseTimings needs at least one timing');
  const { mean, sd } = meanAndSd(timingsMs);
  const kept = sd === 0 ? [...timingsMs] : timingsMs.filter((t) => Math.abs(t - mean) <= sigma * sd);
  const sorted = (kept.length ? kept : [...timingsMs]).sort((a, b) => a - b);
  const after = meanAndSd(sorted);
  return {
    medianMs: percentile(sorted, 0.5),
    p10Ms: percentile(sorted, 0.1),
    p90Ms: percentile(sorted, 0.9),
    meanMs: after.mean,
    sdMs: after.sd,
    minMs: sorted[0]!,
    maxMs: sorted[sorted.length - 1]!,
    samples: sorted.length,
    outliersDropped: timingsMs.length - sorted.length,
  };
}

/** The q-th quantile (0..1) of ascending `sorted`. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 1) return sorted[0]!;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function meanAndSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, sd: Math.sqrt(variance) };
}
