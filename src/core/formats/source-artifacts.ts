import type * as tf from '@tensorflow/tfjs';

/**
 * The key under which a model object Kiln built from files carries those files, where
 * they store some weight in less than its dtype's width (float16, uint8, uint16): what a
 * format's `save` needs to write those weights back as they were stored, while their
 * values are still the ones the files decode to. tf.js forgets this at load (a
 * LayersModel always saves float32).
 *
 * The files travel with the model object itself (a non-enumerable symbol property), so
 * there is no registry: they live exactly as long as the model, only code that builds a
 * model from files (a format's `load`, disk io) or copies one (`copyTo`, a layer
 * rewrite) sets them, and they change nothing about how the model runs, only how its
 * files are written.
 */
const SOURCE_FILES = Symbol('kiln.sourceFiles');

type WithSourceFiles = { [SOURCE_FILES]?: tf.io.ModelArtifacts };

/** Whether any weight of `artifacts` is stored quantised (a `quantization` entry in the weights manifest). */
export function storesQuantizedWeights(artifacts: tf.io.ModelArtifacts | undefined): boolean {
  return (artifacts?.weightSpecs ?? []).some((spec) => spec.quantization != null);
}

/**
 * Records on `model` that it was built from `artifacts` (kept as given, never mutated;
 * only when they store some weight quantised). Returns `model`.
 */
export function rememberSourceArtifacts<M extends object>(model: M, artifacts: tf.io.ModelArtifacts | undefined): M {
  if (artifacts && storesQuantizedWeights(artifacts) && artifacts.weightData !== undefined && Object.isExtensible(model)) {
    Object.defineProperty(model, SOURCE_FILES, { value: artifacts, enumerable: false, configurable: true, writable: false });
  }
  return model;
}

/** The quantised files `model` was built from, if it was built (or copied) from such files. */
export function sourceArtifactsOf(model: object): tf.io.ModelArtifacts | undefined {
  return (model as WithSourceFiles)[SOURCE_FILES];
}

/** Gives `copy` the source files of `original` (a copy or rewrite of it; `save` still checks every value). Returns `copy`. */
export function inheritSourceArtifacts<M extends object>(copy: M, original: object): M {
  return rememberSourceArtifacts(copy, sourceArtifactsOf(original));
}
