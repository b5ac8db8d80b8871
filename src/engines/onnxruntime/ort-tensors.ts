import * as tf from '@tensorflow/tfjs';
import type { OrtModule, OrtTensor, OrtTensorType } from './ort-api.js';

const ORT_TYPES: Partial<Record<tf.DataType, OrtTensorType>> = { float32: 'float32', int32: 'int32', bool: 'bool' };

/** A tf.js tensor as an onnxruntime tensor (its values copied out of tf.js). */
export function toOrtTensor(ort: OrtModule, t: tf.Tensor): OrtTensor {
  const type = ORT_TYPES[t.dtype];
  if (!type) throw new Error(`a ${t.dtype} tensor cannot be fed to onnxruntime by Kiln`);
  return new ort.Tensor(type, t.dataSync() as Float32Array | Int32Array | Uint8Array, t.shape);
}

/** An onnxruntime output as a tf.js tensor (float32, int32, bool; int64 narrowed to int32), on tf.js's current backend. */
export function fromOrtTensor(t: OrtTensor): tf.Tensor {
  const dims = [...t.dims].map(Number);
  switch (t.type) {
    case 'float32':
      return tf.tensor(t.data as Float32Array, dims, 'float32');
    case 'int32':
      return tf.tensor(t.data as Int32Array, dims, 'int32');
    case 'bool':
      return tf.tensor(t.data as Uint8Array, dims, 'bool');
    case 'int64':
      return tf.tensor(Int32Array.from(t.data as BigInt64Array, Number), dims, 'int32');
    default:
      throw new Error(`onnxruntime returned a ${t.type} tensor, which Kiln does not take back into tf.js`);
  }
}
