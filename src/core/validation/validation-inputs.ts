import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import type { TensorSpec } from '../kiln-model.js';
import { sampleInputsFor, tfSeed } from './input-samples.js';

/** One set of inputs the validator runs both models on. */
export interface ValidationInputSet {
  /** What this set is, for the report: "sample", "perturbed #2", "large magnitude x10", "batch 2". */
  readonly label: string;
  /** A stress set (inputs scaled far beyond the samples): the scale-aware default holds it to a looser share (STRESS_FACTOR). */
  readonly stress?: boolean;
  readonly inputs: tf.Tensor[];
  /**
   * Compare only the first this many rows (axis 0) of every output: the candidate runs the
   * whole batch (the signature it serves), the cpu reference only these rows. Set on the
   * sets of a large batch (see {@link SUBSET_FROM_BATCH}); the validator drops it where the
   * model's rows turn out not to be independent.
   */
  readonly referenceRows?: number;
}

/**
 * Batches larger than this are validated on a subset of rows: the samples in full (one
 * full batch, compared row for row with the cpu reference), every other set on its first
 * {@link SUBSET_ROWS} rows, and the batch-size set at {@link SUBSET_ROWS} - 1 rows instead of
 * twice the batch. The cpu reference, about 4 s a call of the demo network at batch 32, then
 * costs about two batches instead of eight.
 */
export const SUBSET_FROM_BATCH = 8;
/** Rows compared on each set but the samples when the batch is larger than {@link SUBSET_FROM_BATCH}. */
export const SUBSET_ROWS = 4;

export interface ValidationInputOptions {
  /** Number of seeded perturbations of the samples. */
  readonly samples: number;
  readonly seed: number;
  readonly largeMagnitude: number;
}

/**
 * The validation input sets: the user's samples, `samples` seeded perturbations of
 * them (Gaussian noise scaled to each input's spread), the samples scaled by
 * `largeMagnitude`, and the samples at twice the batch size when every input's batch
 * dimension is free. Non-float inputs are kept as given. On a batch larger than
 * {@link SUBSET_FROM_BATCH} where every input's batch is free, the sets after the samples
 * compare their first {@link SUBSET_ROWS} rows only, and the batch-size set has
 * SUBSET_ROWS - 1 rows (an odd size, which the kernels of a large batch did not see).
 * The caller disposes the sets.
 */
export function buildValidationInputs(
  samples: readonly tf.Tensor[],
  specs: readonly TensorSpec[],
  options: ValidationInputOptions,
): ValidationInputSet[] {
  const make = (fn: (t: tf.Tensor, i: number) => tf.Tensor) => samples.map((t, i) => tf.tidy(() => fn(t, i)));
  const freeBatch = specs.length > 0 && specs.every((s) => s.shape[0] == null);
  const batch = samples[0]?.shape[0] ?? 1;
  const subset = freeBatch && batch > SUBSET_FROM_BATCH;
  const rows = subset ? { referenceRows: SUBSET_ROWS } : {};
  const rowsNote = subset ? ` (rows 1-${SUBSET_ROWS} of ${batch} compared)` : '';
  const sets: ValidationInputSet[] = [{ label: 'sample', inputs: make((t) => tf.clone(t)) }];
  for (let k = 0; k < options.samples; k++) {
    sets.push({
      label: `perturbed #${k + 1}${rowsNote}`,
      inputs: make((t, i) => (isFloat(t) ? perturb(t, tfSeed(options.seed, 1000 * k + i)) : tf.clone(t))),
      ...rows,
    });
  }
  sets.push({
    label: `large magnitude x${options.largeMagnitude}${rowsNote}`,
    stress: true,
    inputs: make((t) => (isFloat(t) ? tf.mul(t, options.largeMagnitude) : tf.clone(t))),
    ...rows,
  });
  if (freeBatch && subset) {
    const odd = SUBSET_ROWS - 1;
    sets.push({
      label: `batch ${odd}`,
      inputs: make((t, i) => {
        const head = tf.slice(t, 0, odd);
        return isFloat(t) ? perturb(head, tfSeed(options.seed, 7919 + i)) : head;
      }),
    });
  } else if (freeBatch) {
    sets.push({
      label: `batch ${2 * batch}`,
      inputs: make((t, i) => tf.concat([t, isFloat(t) ? perturb(t, tfSeed(options.seed, 7919 + i)) : t], 0)),
    });
  }
  return sets;
}

/**
 * Sample inputs for a model given none: one batch row per input (`batch` rows where the
 * batch dimension is free), seeded standard normal values (uniform integers 0..9 for
 * int32 inputs). Free dimensions other than the batch cannot be guessed and are an
 * error asking for their size. {@link sampleInputsFor} takes given shapes, ranges and values.
 */
export function syntheticSampleInputs(specs: readonly TensorSpec[], seed: number, batch = 1): tf.Tensor[] {
  return sampleInputsFor(specs, { seed, batch });
}

/** Validates user-supplied samples against the model's inputs: count, rank, fixed dimensions. */
export function checkSampleInputs(samples: readonly tf.Tensor[], specs: readonly TensorSpec[]): void {
  if (samples.length !== specs.length) {
    throw new InputError(
      `The model has ${specs.length} input(s) (${specs.map((s) => s.name).join(', ')}) but ${samples.length} sample input(s) were given. Pass one tensor per input, in order.`,
    );
  }
  samples.forEach((t, i) => {
    const spec = specs[i]!;
    const fits = t.rank === spec.shape.length && spec.shape.every((d, axis) => d == null || d === t.shape[axis]);
    if (!fits) {
      throw new InputError(
        `Sample input ${i} has shape [${t.shape.join(', ')}] but model input "${spec.name}" expects [${spec.shape.map((d) => d ?? 'null').join(', ')}] (null: any size).`,
      );
    }
    if (t.isDisposed) throw new InputError(`Sample input ${i} has been disposed.`);
  });
}

function isFloat(t: tf.Tensor): boolean {
  return t.dtype === 'float32';
}

function perturb(t: tf.Tensor, seed: number): tf.Tensor {
  const spread = tf.moments(t).variance.sqrt();
  const scale = tf.maximum(spread, 1e-3).mul(0.1);
  return tf.add(t, tf.mul(tf.randomNormal(t.shape, 0, 1, 'float32', seed), scale));
}
