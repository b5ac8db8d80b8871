import type * as tf from '@tensorflow/tfjs';
import type { KilnModel } from '../kiln-model.js';

/** One weight of a model, as the weight guard checks it and model bytes count it. */
export interface ModelWeight {
  /** The name the model's files give it (e.g. `stem_conv/kernel`). */
  readonly name: string;
  /** The tensor that holds its values now. */
  readonly value: tf.Tensor;
  /** Writes `values` back into the weight (the guard's restore); absent where the format cannot (Kiln then rebuilds). */
  readonly assign?: (values: tf.Tensor) => void;
}

/**
 * A model of some format as a KilnModel carries it: the stock model object (a
 * `tf.LayersModel`, a `tf.GraphModel`, ...) and the adapter that knows how to handle it.
 */
export interface StockModel<M extends object = object> {
  readonly format: ModelFormat<M>;
  readonly model: M;
}

/**
 * A model format adapter: everything Kiln's format-independent code (the pipeline, the
 * weight guard, the engines, model bytes, the CLI, the conformance kit) needs to know
 * about one kind of model. Adding a format is one file that implements this and calls
 * `registerModelFormat` (see docs/architecture.md, "Add a format").
 *
 * Every method only reads the model it is given; none may mutate it.
 */
export interface ModelFormat<M extends object = object> {
  /** Stable name, in reports and errors (`layers-model`). */
  readonly name: string;
  /** What users call it (`tf.LayersModel`). */
  readonly displayName: string;
  /** Whether `model` is an in-memory model of this format. */
  owns(model: unknown): model is M;
  /** Whether the parsed `model.json` is a file of this format. */
  recognises(modelJson: Readonly<Record<string, unknown>>): boolean;
  /** Builds the model from its files, with its weights on the active tf.js backend. */
  load(artifacts: tf.io.ModelArtifacts): Promise<M>;
  /** The model's files (topology and weights), as the stock tf.js loader reads them. */
  save(model: M): Promise<tf.io.ModelArtifacts>;
  /** Every weight, in a stable order. */
  weights(model: M): readonly ModelWeight[];
  /** A copy whose weights live on the tf.js backend `backend`; `model` is only read. */
  copyTo(model: M, backend: string): Promise<M>;
  /**
   * `model` as a KilnModel that runs it with its own predict on `backend`. `owned`: its
   * `dispose` frees the model (true for copies Kiln made, never for the user's).
   */
  wrap(model: M, backend: string, owned: boolean, description?: string): KilnModel;
  /**
   * Replaces the values of the weight the model's files name `name` with `values` (same
   * shape and dtype; on the active backend; the caller keeps `values`). Only for models
   * Kiln made (a working copy), never the user's. Optional: plugins that search over
   * weight values (mixed precision) skip a format without it, with the reason.
   */
  overwriteWeight?(model: M, name: string, values: tf.Tensor): void;
  /** Frees a model Kiln made (a copy, a rewrite); never called on the user's model. */
  dispose(model: M): void;
}
