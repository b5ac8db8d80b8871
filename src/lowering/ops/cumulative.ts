import type { KernelLowering } from '../kernel-lowering.js';
import { onnxAxis } from '../layout.js';
import { attr } from '../onnx-attributes.js';

/** Cumsum as ONNX CumSum (exclusive, reverse), in the layout of its input (the axis mapped to it). Cumprod has no ONNX op. */
export const cumulativeLowering: KernelLowering = {
  kernels: ['Cumsum'],
  lower(node, context) {
    const x = node.inputs.x!;
    const { name, perm } = context.get(x);
    const axis = onnxAxis(Number(node.attrs.axis ?? 0), context.rank(x), perm);
    context.emitFor(
      node.outputs[0]!,
      'CumSum',
      [name, context.int64([axis], true)],
      [attr.int('exclusive', node.attrs.exclusive ? 1 : 0), attr.int('reverse', node.attrs.reverse ? 1 : 0)],
      perm,
    );
  },
};
