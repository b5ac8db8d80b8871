import type { KernelLowering } from '../kernel-lowering.js';
import { onnxAxis } from '../layout.js';
import { attr } from '../onnx-attributes.js';

/** TopK over the last axis as ONNX TopK (largest, sorted as asked), in the layout of its input; the int64 indices cast to tf.js's int32. */
export const topKLowering: KernelLowering = {
  kernels: ['TopK'],
  lower(node, context) {
    const x = node.inputs.x!;
    const { name, perm } = context.get(x);
    const axis = onnxAxis(-1, context.rank(x), perm);
    const [values, indices] = context.emit(
      'TopK',
      [name, context.int64([Number(node.attrs.k ?? 1)])],
      [attr.int('axis', axis), attr.int('largest', 1), attr.int('sorted', node.attrs.sorted === false ? 0 : 1)],
      2,
    );
    context.define(node.outputs[0]!, values!, perm);
    context.emitFor(node.outputs[1]!, 'Cast', [indices!], [attr.int('to', 6)], perm);
  },
};
