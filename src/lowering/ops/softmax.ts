import type { KernelLowering } from '../kernel-lowering.js';
import { onnxAxis } from '../layout.js';
import { attr } from '../onnx-attributes.js';

/** Softmax and LogSoftmax over one axis (`dim`, the last by default), in the layout of the input. */
export const softmaxLowering: KernelLowering = {
  kernels: ['Softmax', 'LogSoftmax'],
  lower(node, context) {
    const x = node.inputs.logits ?? node.inputs.x!;
    const { name, perm } = context.get(x);
    const rank = context.rank(x);
    const axis = onnxAxis(Number(node.attrs.dim ?? node.attrs.axis ?? -1), rank, perm);
    context.emitFor(node.outputs[0]!, node.kernel, [name], [attr.int('axis', axis)], perm);
  },
};
