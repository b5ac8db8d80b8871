/**
 * Layouts of lowered values. A lowered value holds `transpose(tfValue, perm)`: ONNX
 * axis k is axis `perm[k]` of the value tf.js computes. `undefined` is the tf.js layout
 * itself. Convolutions and pools run in NCHW, so their outputs are held in
 * `NCHW` (perm [0, 3, 1, 2] of the NHWC value) until an op needs the tf.js layout.
 */
export type Perm = readonly number[] | undefined;

/** NHWC -> NCHW: ONNX axes (N, C, H, W) are tf.js axes (0, 3, 1, 2). */
export const NCHW: readonly number[] = [0, 3, 1, 2];

export function isIdentity(perm: Perm): boolean {
  return perm === undefined || perm.every((p, i) => p === i);
}

/** `perm` with identity perms as undefined, so that layouts compare with `sameLayout`. */
export function normalise(perm: Perm): Perm {
  return isIdentity(perm) ? undefined : perm;
}

export function sameLayout(a: Perm, b: Perm): boolean {
  const [x, y] = [normalise(a), normalise(b)];
  if (x === undefined || y === undefined) return x === y;
  return x.length === y.length && x.every((p, i) => p === y[i]);
}

export function inverse(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, k) => (inv[p] = k));
  return inv;
}

/** The ONNX axis that holds tf.js axis `axis` (negative counts from the end) of a rank-`rank` value in layout `perm`. */
export function onnxAxis(axis: number, rank: number, perm: Perm): number {
  const a = axis < 0 ? axis + rank : axis;
  return perm === undefined ? a : inverse(perm)[a]!;
}

/**
 * The Transpose perm that turns a value held in layout `from` into layout `to`:
 * `to[i]` is the tf.js axis wanted at ONNX axis i, which `from` holds at inverse(from)[to[i]].
 */
export function conversion(from: Perm, to: Perm, rank: number): number[] {
  const f = from ?? identity(rank);
  const t = to ?? identity(rank);
  const finv = inverse(f);
  return t.map((axis) => finv[axis]!);
}

export function identity(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i);
}

/** A tf.js shape as the layout holds it. */
export function permuteShape(shape: readonly number[], perm: Perm): number[] {
  return perm === undefined ? [...shape] : perm.map((p) => shape[p]!);
}

/**
 * The layout of a reduction's result when the input is held in `perm` and `reduced`
 * (tf.js axes) are dropped: ONNX keeps the remaining axes in its own order, each of
 * which is the tf.js axis at its rank among the remaining ones.
 */
export function layoutAfterDropping(perm: Perm, rank: number, reduced: readonly number[]): Perm {
  if (perm === undefined) return undefined;
  const kept = identity(rank).filter((a) => !reduced.includes(a));
  return normalise(perm.filter((a) => !reduced.includes(a)).map((a) => kept.indexOf(a)));
}
