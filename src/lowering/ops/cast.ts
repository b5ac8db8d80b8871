import type { KernelLowering } from '../kernel-lowering.js';
import { onnxDataType } from '../onnx-dtype.js';
import { attr } from '../onnx-attributes.js';

/** Cast to float32, int32 or bool, in the layout of the input (a cast to the same dtype is no node). */
export const castLowering: KernelLowering = {
  kernels: ['Cast'],
  lower(node, context) {
    const x = node.inputs.x!;
    const out = node.outputs[0]!;
    const { name, perm } = context.get(x);
    const to = context.value(out).dtype;
    const type = onnxDataType(to);
    if (type === undefined) throw context.unsupported(node, `a cast to ${to}`);
    if (context.value(x).dtype === to) {
      context.define(out, name, perm);
      return;
    }
    // float -> int32 truncates toward zero and anything -> bool is "not 0", in tf.js and ONNX alike
    context.emitFor(out, 'Cast', [name], [attr.int('to', type)], perm);
  },
};
