import type { KernelLowering } from '../kernel-lowering.js';

/**
 * Reshape (also what tf.squeeze, tf.expandDims and tf.layers' Flatten run), Squeeze and
 * ExpandDims: an ONNX Reshape to the traced output shape, in the tf.js layout (a reshape
 * does not commute with a transpose, so a value held in NCHW is converted first).
 */
export const reshapeLowering: KernelLowering = {
  kernels: ['Reshape', 'Squeeze', 'ExpandDims'],
  lower(node, context) {
    const x = node.inputs.x ?? node.inputs.input!;
    const out = node.outputs[0]!;
    const shape = context.shape(out);
    if (shape.join(',') === context.shape(x).join(',')) {
      const held = context.get(x);
      context.define(out, held.name, held.perm);
      return;
    }
    context.emitFor(out, 'Reshape', [context.inLayout(x, undefined), context.int64(shape)]);
  },
};
