/** Where two arrays differ most, relative to the tolerance. */
export interface WorstElement {
  readonly index: number;
  readonly expected: number;
  readonly actual: number;
  readonly absDiff: number;
}

export interface Closeness {
  readonly ok: boolean;
  /** Largest |actual - expected| over finite pairs. */
  readonly maxAbsDiff: number;
  /** The element that breaks (or comes closest to breaking) the tolerance. */
  readonly worst?: WorstElement;
  /** Set when `actual` is NaN/Inf where `expected` is finite (or the reverse). */
  readonly nonFinite?: WorstElement;
  readonly mismatchedLength?: { expected: number; actual: number };
}

/**
 * numpy-style allclose: every element must satisfy |a - b| <= atol + rtol * |b|, with
 * `b` the expected (reference) value. NaN matches NaN and an infinity matches the same
 * infinity; a non-finite value where the reference is finite fails, and so does the
 * reverse.
 */
export function allclose(expected: ArrayLike<number>, actual: ArrayLike<number>, atol: number, rtol: number): Closeness {
  if (expected.length !== actual.length) {
    return { ok: false, maxAbsDiff: Infinity, mismatchedLength: { expected: expected.length, actual: actual.length } };
  }
  let maxAbsDiff = 0;
  let worst: WorstElement | undefined;
  let worstRatio = -1;
  for (let i = 0; i < expected.length; i++) {
    const b = expected[i]!;
    const a = actual[i]!;
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
      return { ok: false, maxAbsDiff: Infinity, nonFinite: { index: i, expected: b, actual: a, absDiff: Infinity }, worst };
    }
    const diff = Math.abs(a - b);
    if (diff > maxAbsDiff) maxAbsDiff = diff;
    const ratio = diff / (atol + rtol * Math.abs(b));
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = { index: i, expected: b, actual: a, absDiff: diff };
    }
  }
  return { ok: worstRatio <= 1, maxAbsDiff, worst };
}

/** Row-major flat index to a multi-index, for messages: 17 in [2,3,4] -> [1,1,1]. */
export function unravelIndex(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d]!;
    index[d] = size > 0 ? rest % size : 0;
    rest = size > 0 ? Math.floor(rest / size) : 0;
  }
  return index;
}
