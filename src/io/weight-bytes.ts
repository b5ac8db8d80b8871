/**
 * Byte-size arithmetic for the weights listed in a model.json `weightsManifest`, and
 * the weight bytes of model artifacts as one buffer.
 *
 * A weight's bytes on disk are its element count times the width of the dtype it
 * is *stored* as: its own dtype, or `quantization.dtype` when it is quantised.
 */
import * as tf from '@tensorflow/tfjs';

import { ModelFileError } from '../core/errors.js';

/** Bytes per element of every dtype a weight can be stored as (mirrors tfjs's DTYPE_VALUE_SIZE_MAP). */
const STORED_DTYPE_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  float16: 2,
  uint16: 2,
  uint8: 1,
  bool: 1,
  complex64: 8,
};

/**
 * Bytes per element for a stored dtype.
 *
 * @param dtype the dtype the values are stored as on disk.
 * @param where a description of where the dtype came from, used in error messages.
 * @throws ModelFileError for `string` (variable width, not supported) and unknown dtypes.
 */
export function dtypeByteWidth(dtype: string, where: string): number {
  if (dtype === 'string') {
    throw new ModelFileError(
      `${where} has dtype 'string', which Kiln cannot size or load from disk: ` +
        'string weights are not supported; remove them or keep the model in a graph-model format Kiln does not optimise.',
    );
  }
  const width = Object.prototype.hasOwnProperty.call(STORED_DTYPE_BYTES, dtype) ? STORED_DTYPE_BYTES[dtype] : undefined;
  if (width === undefined) {
    throw new ModelFileError(
      `${where} has unknown dtype '${dtype}': expected one of ${Object.keys(STORED_DTYPE_BYTES).join(', ')}. ` +
        'Re-export the model with a standard TensorFlow.js converter.',
    );
  }
  return width;
}

/**
 * Number of elements in a tensor of the given shape (`[]` is a scalar: 1 element).
 *
 * @throws ModelFileError when the shape is not an array of non-negative integers.
 */
export function elementCount(shape: unknown, where: string): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new ModelFileError(
      `${where} has an invalid shape ${JSON.stringify(shape)}: a shape must be an array of non-negative integers. ` +
        'Re-export the model.',
    );
  }
  return (shape as number[]).reduce((n, d) => n * d, 1);
}

/**
 * Bytes a single weight occupies in the shard files.
 *
 * @param spec one entry of a weights manifest group.
 * @param where where the spec lives (e.g. the model.json path), for error messages.
 */
export function weightSpecByteLength(spec: tf.io.WeightsManifestEntry, where = 'model.json'): number {
  const label = `weight '${String(spec?.name)}' in ${where}`;
  if (spec === null || typeof spec !== 'object' || typeof spec.name !== 'string') {
    throw new ModelFileError(
      `${where} has a weight spec without a name (${JSON.stringify(spec)}): each weight needs name, shape and dtype. ` +
        'Re-export the model.',
    );
  }
  const storedDtype = spec.quantization != null ? spec.quantization.dtype : spec.dtype;
  const storedLabel = spec.quantization != null ? `${label} (quantization)` : label;
  return elementCount(spec.shape, label) * dtypeByteWidth(String(storedDtype), storedLabel);
}

/** Total bytes of a list of weight specs, in order. */
export function weightSpecsByteLength(specs: readonly tf.io.WeightsManifestEntry[], where = 'model.json'): number {
  return specs.reduce((total, spec) => total + weightSpecByteLength(spec, where), 0);
}

/** Concatenate tfjs `WeightData` (one ArrayBuffer or a list of them) into one ArrayBuffer; empty when there is none. */
export function joinWeightData(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]);
}
