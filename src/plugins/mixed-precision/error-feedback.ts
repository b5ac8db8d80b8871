/**
 * Error-feedback rounding of a weight matrix onto a fixed affine grid: GPTQ's
 * algorithm (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative
 * Pre-trained Transformers", 2023), which is Optimal Brain Quantization applied row by
 * row of the inputs.
 *
 * A layer computes `y = x W` (a Dense kernel is `W` as stored; a Conv2D kernel
 * `[kh, kw, cin, cout]` is `W` with `K = kh * kw * cin` rows over the input patches).
 * Rounding every value to its nearest code minimises the error of `W`; what matters is
 * the error of `y` on the inputs the layer sees. With `H = X^T X` over sample inputs
 * `X`, the rows of `W` are rounded one at a time, and each row's rounding error is
 * pushed onto the rows not yet rounded, in the proportions that cancel its effect on
 * `y` best (through the Cholesky factor of `H^-1`). The grid (`min`, `scale`) is the
 * plain one, so the codes load with the stock tf.js decoder: only which code each
 * value gets changes.
 */

/** The affine grid the codes live on: `value = code * scale + min`, codes 0..qmax. */
export interface AffineGrid {
  readonly min: number;
  readonly scale: number;
  readonly qmax: number;
}

/**
 * Relative damping added to the diagonal of `H` (a share of its mean diagonal), as in
 * GPTQ, so that `H` is invertible when the samples span fewer directions than `K`.
 */
export const DEFAULT_DAMPING = 0.01;

/** Lower Cholesky factor `L` of a symmetric positive definite `a` (n x n, row-major): `a = L L^T`. */
export function choleskyLower(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error(`matrix is not positive definite (pivot ${i} is ${s})`);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j]!;
      }
    }
  }
  return l;
}

/** `(L L^T)^-1` from the lower Cholesky factor `L` (n x n, row-major). */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  const li = new Float64Array(n * n); // L^-1, lower triangular
  for (let i = 0; i < n; i++) {
    li[i * n + i] = 1 / l[i * n + i]!;
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i * n + k]! * li[k * n + j]!;
      li[i * n + j] = -s / l[i * n + i]!;
    }
  }
  const inv = new Float64Array(n * n); // L^-T L^-1
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += li[k * n + i]! * li[k * n + j]!;
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}

/** The nearest code of `value` on `grid`. */
export function nearestCode(value: number, grid: AffineGrid): number {
  return Math.min(grid.qmax, Math.max(0, Math.round((value - grid.min) / grid.scale)));
}

/**
 * Codes for the `rows x cols` matrix `weights` (row-major, rows = layer inputs) on
 * `grid`, chosen by error feedback against the input second moments `hessian`
 * (`rows x rows`, `X^T X`; its scale does not matter). Inputs that never fire (a zero
 * diagonal) have their weights rounded to nearest and feed nothing back.
 *
 * @throws Error when `hessian` is not positive definite even after damping.
 */
export function errorFeedbackCodes(
  weights: Float32Array,
  hessian: Float64Array,
  rows: number,
  cols: number,
  grid: AffineGrid,
  damping = DEFAULT_DAMPING,
): Uint8Array | Uint16Array {
  if (weights.length !== rows * cols) throw new Error(`weights hold ${weights.length} values, not ${rows} x ${cols}`);
  if (hessian.length !== rows * rows) throw new Error(`hessian holds ${hessian.length} values, not ${rows} x ${rows}`);
  const h = Float64Array.from(hessian);
  let meanDiagonal = 0;
  for (let k = 0; k < rows; k++) meanDiagonal += h[k * rows + k]!;
  meanDiagonal /= rows;
  if (!(meanDiagonal > 0)) throw new Error('the layer inputs are all zero on the samples');
  for (let k = 0; k < rows; k++) {
    if (h[k * rows + k] === 0) h[k * rows + k] = meanDiagonal; // a dead input: decoupled
    h[k * rows + k] += damping * meanDiagonal;
  }
  // Hinv = U^T U with U upper triangular; U[k, j] = lower[j, k].
  const lower = choleskyLower(inverseFromCholesky(choleskyLower(h, rows), rows), rows);

  const w = Float64Array.from(weights);
  const codes = grid.qmax <= 255 ? new Uint8Array(rows * cols) : new Uint16Array(rows * cols);
  const error = new Float64Array(cols);
  for (let k = 0; k < rows; k++) {
    const pivot = lower[k * rows + k]!;
    for (let c = 0; c < cols; c++) {
      const value = w[k * cols + c]!;
      const code = nearestCode(value, grid);
      codes[k * cols + c] = code;
      error[c] = (value - (code * grid.scale + grid.min)) / pivot;
    }
    for (let j = k + 1; j < rows; j++) {
      const u = lower[j * rows + k]!;
      if (u === 0) continue;
      const row = j * cols;
      for (let c = 0; c < cols; c++) w[row + c] -= u * error[c]!;
    }
  }
  return codes;
}
