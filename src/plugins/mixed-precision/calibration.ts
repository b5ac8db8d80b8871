/**
 * Calibration for error-feedback rounding: the second moments `H = X^T X` of the
 * inputs each Conv2D and Dense kernel sees when the float32 model runs on the user's
 * samples. Computed on a private copy of the model loaded from its artifacts, so the
 * user's model is never touched.
 */
import * as tf from '@tensorflow/tfjs';
import { withBackend, withBackendAsync } from '../../core/backend-scope.js';
import { disposeLayersModel } from '../../formats/layers-model/dispose-layers-model.js';

/** The input second moments of one kernel, seen as a `rows x cols` matrix (rows = inputs per output). */
export interface KernelInputMoments {
  readonly rows: number;
  readonly cols: number;
  /** `X^T X` over the calibration rows, `rows x rows`, row-major. */
  readonly hessian: Float64Array;
  /** How many input rows (samples x output positions) went into it. */
  readonly inputRows: number;
}

export interface Calibration {
  /** By weight name, for the kernels error feedback can round. */
  readonly moments: ReadonlyMap<string, KernelInputMoments>;
  /** By weight name, why a weight asked for is rounded to nearest instead. */
  readonly skipped: ReadonlyMap<string, string>;
}

/** Kernels with more inputs per output are rounded to nearest: error feedback costs O(rows^3) in JavaScript. */
export const MAX_CALIBRATED_ROWS = 1024;

/** At most about this many input rows go into one kernel's moments (a pseudo-random subset beyond it). */
export const MAX_CALIBRATION_ROWS = 16384;

/**
 * Kernels whose error feedback would cost more multiply-adds than this (the factorisations,
 * rows^3, plus the updates, rows^2 x outputs) are rounded to nearest: a few seconds of JavaScript.
 */
export const MAX_FEEDBACK_WORK = 2e9;

/**
 * Which of `count` rows (output positions, or Dense input rows) calibration uses: all of
 * them up to {@link MAX_CALIBRATION_ROWS}, beyond that a fixed pseudo-random subset of
 * about that size (a multiplicative hash of the index, so a regular stride cannot alias
 * with the image width and keep only even columns).
 */
export function calibrationRows(count: number): Int32Array {
  if (count <= MAX_CALIBRATION_ROWS) return Int32Array.from({ length: count }, (_, i) => i);
  const keep = MAX_CALIBRATION_ROWS / count;
  const chosen: number[] = [];
  for (let i = 0; i < count; i++) if ((Math.imul(i + 1, 2654435761) >>> 0) / 4294967296 < keep) chosen.push(i);
  return Int32Array.from(chosen);
}

interface KernelSite {
  readonly name: string;
  readonly layer: tf.layers.Layer;
  readonly rows: number;
  readonly cols: number;
}

/**
 * The input moments of every kernel in `names` that is the kernel of a top-level
 * Conv2D (channels-last, no dilation) or Dense layer called once, with at most
 * {@link MAX_CALIBRATED_ROWS} inputs per output; every other name lands in `skipped`
 * with the reason.
 */
export async function calibrate(
  artifacts: tf.io.ModelArtifacts,
  samples: readonly tf.Tensor[],
  backend: string,
  names: readonly string[],
): Promise<Calibration> {
  const model = await withBackendAsync(backend, () => tf.loadLayersModel(tf.io.fromMemory(artifacts)));
  const moments = new Map<string, KernelInputMoments>();
  const skipped = new Map<string, string>();
  try {
    const sites: KernelSite[] = [];
    for (const name of names) {
      const site = kernelSite(model, name);
      if (typeof site === 'string') skipped.set(name, site);
      else sites.push(site);
    }
    if (sites.length === 0) return { moments, skipped };
    withBackend(backend, () => {
      // One probe output per distinct tensor: kernels that read the same tensor (branches, a
      // projection shortcut) share it, and tf.js refuses a model with a repeated output.
      const tensors = [...new Set(sites.map((s) => s.layer.input as tf.SymbolicTensor))];
      const probe = tf.model({ inputs: model.inputs, outputs: tensors });
      const inputs = probe.predict(samples.length === 1 ? samples[0]! : [...samples]);
      const list = Array.isArray(inputs) ? inputs : [inputs];
      try {
        for (const site of sites) {
          const x = list[tensors.indexOf(site.layer.input as tf.SymbolicTensor)]!;
          const patches = site.layer.getClassName() === 'Conv2D' ? im2col(x, site.layer) : flattenRows(x);
          moments.set(site.name, { rows: site.rows, cols: site.cols, ...secondMoments(patches, site.rows) });
        }
      } finally {
        tf.dispose(list);
      }
    });
  } finally {
    disposeLayersModel(model);
  }
  return { moments, skipped };
}

/** The layer whose kernel is weight `name`, with the kernel as a matrix, or why error feedback does not cover it. */
function kernelSite(model: tf.LayersModel, name: string): KernelSite | string {
  const layer = model.layers.find((l) => l.weights.some((w) => w.originalName === name));
  if (!layer) return 'not a weight of a top-level layer';
  const className = layer.getClassName();
  if (layer instanceof tf.LayersModel)
    return `inside the nested model ${layer.name} (error feedback covers top-level Conv2D and Dense kernels)`;
  if (className !== 'Conv2D' && className !== 'Dense') return `a ${className} weight (error feedback covers Conv2D and Dense kernels)`;
  const kernel = layer.weights[0]!;
  if (kernel.originalName !== name) return `not the kernel of ${layer.name} (${className})`;
  if (layer.inboundNodes.length !== 1) return `${layer.name} is shared (called ${layer.inboundNodes.length} times)`;
  const config = layer.getConfig();
  if (className === 'Conv2D') {
    if (config.dataFormat !== 'channelsLast') return `${layer.name} is channels-first`;
    const dilation = [config.dilationRate].flat() as number[];
    if (dilation.some((d) => d !== 1)) return `${layer.name} is dilated`;
  }
  const shape = kernel.shape as number[];
  const cols = shape[shape.length - 1]!;
  const rows = shape.reduce((n, d) => n * d, 1) / cols;
  if (rows > MAX_CALIBRATED_ROWS) return `${rows} inputs per output, over ${MAX_CALIBRATED_ROWS}`;
  const work = rows ** 3 + rows * rows * cols;
  if (work > MAX_FEEDBACK_WORK)
    return `error feedback would take about ${work.toExponential(1)} multiply-adds (rows^3 + rows^2 x outputs), over ${MAX_FEEDBACK_WORK.toExponential(0)}`;
  return { name, layer, rows, cols };
}

/** The rows of a Dense input `[..., K]` that {@link calibrationRows} picks, as a `[rows, K]` Float32Array. */
function flattenRows(x: tf.Tensor): { data: Float32Array; count: number } {
  const k = x.shape[x.rank - 1]!;
  const all = x.dataSync() as Float32Array;
  const chosen = calibrationRows(x.size / k);
  if (chosen.length === x.size / k) return { data: all, count: chosen.length };
  const data = new Float32Array(chosen.length * k);
  chosen.forEach((r, i) => data.set(all.subarray(r * k, (r + 1) * k), i * k));
  return { data, count: chosen.length };
}

/**
 * The input patches of a Conv2D (channels-last, dilation 1) as rows of
 * `kh * kw * cin` values in the kernel's `[kh, kw, cin]` order, one per output position
 * that {@link calibrationRows} picks, zero where the
 * window leaves the image (tf.js 'same' padding puts the odd pixel after).
 */
function im2col(x: tf.Tensor, layer: tf.layers.Layer): { data: Float32Array; count: number } {
  const config = layer.getConfig();
  const [kh, kw] = [config.kernelSize].flat() as number[];
  const [sh, sw] = [config.strides].flat() as number[];
  const kernelH = kh!;
  const kernelW = kw ?? kh!;
  const strideH = sh ?? 1;
  const strideW = sw ?? strideH;
  const [n, h, w, c] = x.shape as number[];
  const same = config.padding === 'same';
  const outH = same ? Math.ceil(h! / strideH) : Math.ceil((h! - kernelH + 1) / strideH);
  const outW = same ? Math.ceil(w! / strideW) : Math.ceil((w! - kernelW + 1) / strideW);
  const padTop = same ? Math.floor(Math.max((outH - 1) * strideH + kernelH - h!, 0) / 2) : 0;
  const padLeft = same ? Math.floor(Math.max((outW - 1) * strideW + kernelW - w!, 0) / 2) : 0;
  const k = kernelH * kernelW * c!;
  // Only the positions calibrationRows picks become rows: the patch matrix stays bounded on large inputs.
  const chosen = calibrationRows(n! * outH * outW);
  const count = chosen.length;
  const src = x.dataSync();
  const data = new Float32Array(count * k);
  for (let row = 0; row < count; row++) {
    const position = chosen[row]!;
    const b = Math.floor(position / (outH * outW));
    const i = Math.floor(position / outW) % outH;
    const j = position % outW;
    let at = row * k;
    for (let a = 0; a < kernelH; a++) {
      for (let e = 0; e < kernelW; e++, at += c!) {
        const y = i * strideH + a - padTop;
        const z = j * strideW + e - padLeft;
        if (y < 0 || z < 0 || y >= h! || z >= w!) continue;
        const base = ((b * h! + y) * w! + z) * c!;
        for (let ch = 0; ch < c!; ch++) data[at + ch] = src[base + ch]!;
      }
    }
  }
  return { data, count };
}

/** `X^T X` of `count` rows of `k` values. */
function secondMoments(patches: { data: Float32Array; count: number }, k: number): { hessian: Float64Array; inputRows: number } {
  const { data: rows, count } = patches;
  const product = tf.tidy(() => {
    const x = tf.tensor2d(rows, [count, k]);
    return tf.matMul(x, x, true, false).dataSync() as Float32Array;
  });
  return { hessian: Float64Array.from(product), inputRows: count };
}
