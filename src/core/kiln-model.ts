import type * as tf from '@tensorflow/tfjs';
import type { StockModel } from './formats/model-format.js';
import type { ValidationBudget } from './validation/budget.js';

/** Shape (null where free, as in a Keras input) and dtype of one model input. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly (number | null)[];
  readonly dtype: tf.DataType;
}

/**
 * A runnable model as the pipeline sees it: the user's model, or what a plugin made
 * of it. `predict` behaves like `tf.LayersModel.predict`: one tensor in and out for a
 * single-input single-output model, arrays otherwise; the caller owns the outputs.
 */
export interface KilnModel {
  /** Backend that `predict` runs on. */
  readonly backend: string;
  /** How it runs, in a few words, for the report (e.g. "LayersModel.predict on wasm"). */
  readonly description: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputNames: readonly string[];
  /**
   * The stock model it runs with that model's own predict, and its format, where it
   * has one (a backend copy, a layer rewrite; not a compiled graph, which replays
   * kernels). Plugins must not mutate it.
   */
  readonly stock?: StockModel;
  /**
   * For a model that runs a stock model's computation outside tf.js (onnxruntime runs
   * its ONNX lowering): that stock model, which it was made from and owns (on cpu).
   * Plugins that store weights differently (mixed precision) work on it and have the
   * model's engine run the result. Plugins must not mutate it.
   */
  readonly madeFrom?: StockModel;
  /** The layers-level model it runs, where it has one. Plugins must not mutate it. */
  readonly layersModel?: tf.LayersModel;
  /** Bytes of its saved weights, where a plugin changed how they are stored (e.g. quantised). */
  readonly artifactBytes?: number;
  /**
   * The model files it was loaded from, where a plugin changed how the weights are
   * stored (e.g. quantised): saving these gives exactly the model that was validated.
   */
  readonly artifacts?: tf.io.ModelArtifacts;
  /**
   * The ONNX file it runs, where it runs one (onnxruntime: the lowering at the sample
   * inputs' signature, the session that was validated); `kiln optimize --out` writes it
   * as model.onnx beside the tfjs files.
   */
  readonly onnx?: Uint8Array;
  /**
   * The accuracy budget this model was made under (e.g. by quantisation). The
   * pipeline then validates it, and every later candidate built on it, against the
   * original under this budget instead of the default check (validation.tolerance, or atol/rtol).
   */
  readonly validationBudget?: ValidationBudget;
  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[];
  /**
   * `predict` for models whose engine answers only asynchronously (an engine of a third
   * party whose runtime has only a promise-returning run). Same contract as `predict`;
   * the caller owns the outputs. The built-in onnxruntime engine runs synchronously.
   */
  predictAsync?(inputs: tf.Tensor | tf.Tensor[]): Promise<tf.Tensor | tf.Tensor[]>;
  /**
   * false where `predict` cannot run and throws saying so: only `predictAsync` runs the
   * model. Absent means true.
   */
  readonly synchronous?: boolean;
  /** Trainable variables, in the order of the source model's trainable weights. */
  trainableVariables(): tf.Variable[];
  /** Frees what this model owns; never the user's model. Safe to call twice. */
  dispose(): void;
}

/** `predict`'s result as an array. */
export function outputsAsArray(outputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(outputs) ? outputs : [outputs];
}

/** Whether `predict` runs the model (false: only `predictAsync` does). */
export function runsSynchronously(model: KilnModel): boolean {
  return model.synchronous !== false;
}

/** One call of `model` by whichever predict it runs, the outputs as an array. */
export async function predictEither(model: KilnModel, inputs: tf.Tensor | tf.Tensor[]): Promise<tf.Tensor[]> {
  if (runsSynchronously(model) || !model.predictAsync) return outputsAsArray(model.predict(inputs));
  return outputsAsArray(await model.predictAsync(inputs));
}
