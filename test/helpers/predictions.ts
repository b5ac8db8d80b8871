import * as tf from '@tensorflow/tfjs';

import { expectTensorsClose } from '../compiler/api/compile-helpers.js';

/** Anything with a tfjs-style `predict`: a LayersModel, a KilnModel, a compiled model. */
export interface Predictor {
  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[];
}

/**
 * Runs `first` then `second` on `inputs`, hands both outputs to `compare`, then disposes
 * the outputs (not the inputs), whether `compare` passes or throws. `T` is the output
 * type the caller expects (a cast, as `predict(x) as tf.Tensor[]` would be).
 */
export function comparePredictions<T extends tf.Tensor | tf.Tensor[] = tf.Tensor | tf.Tensor[]>(
  first: Predictor,
  second: Predictor,
  inputs: tf.Tensor | tf.Tensor[],
  compare: (firstOut: T, secondOut: T) => void,
): void {
  const a = first.predict(inputs);
  let b: tf.Tensor | tf.Tensor[] | undefined;
  try {
    b = second.predict(inputs);
    compare(a as T, b as T);
  } finally {
    tf.dispose(a);
    if (b !== undefined) tf.dispose(b);
  }
}

/**
 * Predicts `actual` then `expected` on `inputs`, asserts the outputs match with
 * {@link expectTensorsClose} (same count, list-ness, shapes, dtypes, values within
 * atol/rtol), and disposes them.
 */
export function expectSamePredictions(
  actual: Predictor,
  expected: Predictor,
  inputs: tf.Tensor | tf.Tensor[],
  atol?: number,
  rtol?: number,
  what?: string,
): void {
  comparePredictions(actual, expected, inputs, (got, want) => expectTensorsClose(got, want, atol, rtol, what));
}
