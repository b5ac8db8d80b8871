import { onnx } from 'onnx-proto';

const T = onnx.AttributeProto.AttributeType;

/** ONNX node attributes, typed as ONNX wants them (a JS number says neither int nor float). */
export const attr = {
  int: (name: string, i: number): onnx.IAttributeProto => ({ name, type: T.INT, i }),
  ints: (name: string, ints: readonly number[]): onnx.IAttributeProto => ({ name, type: T.INTS, ints: [...ints] }),
  float: (name: string, f: number): onnx.IAttributeProto => ({ name, type: T.FLOAT, f }),
  string: (name: string, s: string): onnx.IAttributeProto => ({ name, type: T.STRING, s: new TextEncoder().encode(s) }),
};
