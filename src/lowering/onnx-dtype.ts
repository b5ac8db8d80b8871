import type * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';

const ONNX_OF: Partial<Record<tf.DataType, onnx.TensorProto.DataType>> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** The ONNX element type of a tf.js dtype; undefined for those ONNX models do not take from Kiln (string, complex64). */
export function onnxDataType(dtype: tf.DataType): onnx.TensorProto.DataType | undefined {
  return ONNX_OF[dtype];
}
