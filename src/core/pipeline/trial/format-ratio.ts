import type { BenchmarkResult } from '../../benchmark/benchmarker.js';
/**
 * `ratio` with two decimals, or as many more (up to six) as it takes to read apart from
 * `threshold`: a rejection at 1.0467 against 1.05 reads "1.047x", never "1.05x".
 */
export function formatRatio(ratio: number, threshold: number): string {
  let digits = 2;
  while (digits < 6 && ratio !== threshold && ratio.toFixed(digits) === threshold.toFixed(digits)) digits++;
  return ratio.toFixed(digits);
}

/** `12 interleaved runs, 95% interval 1.02x-1.10x`, and why timing stopped when it stopped early. */
export function describeRuns(bench: BenchmarkResult, threshold: number): string {
  const interval = bench.ratio
    ? `, 95% interval ${formatRatio(bench.ratio.low, threshold)}x-${formatRatio(bench.ratio.high, threshold)}x`
    : '';
  const stop = bench.stoppedBy === 'budget' ? ' (time budget spent)' : bench.stoppedBy === 'decided' ? ' (verdict clear)' : '';
  return `${bench.iterations} interleaved runs${stop}${interval}`;
}
