/**
 * `ratio` with two decimals, or as many more (up to six) as it takes to read apart from
 * `threshold`: a rejection at 1.0467 against 1.05 reads "1.047x", never "1.05x".
 */
export function formatRatio(ratio: number, threshold: number): string {
  let digits = 2;
  while (digits < 6 && ratio !== threshold && ratio.toFixed(digits) === threshold.toFixed(digits)) digits++;
  return ratio.toFixed(digits);
}
