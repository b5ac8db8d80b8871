import type { KernelLowering } from '../kernel-lowering.js';
import { NCHW } from '../layout.js';
import { attr } from '../onnx-attributes.js';

/**
 * LRN (local response normalisation over channels) as ONNX LRN in NCHW: a window of
 * 2r + 1 channels, and ONNX's alpha divided by the window size, so it is tf.js's alpha x size.
 */
export const lrnLowering: KernelLowering = {
  kernels: ['LRN'],
  lower(node, context) {
    const radius = Number(node.attrs.depthRadius ?? 5);
    const size = 2 * radius + 1;
    context.emitFor(
      node.outputs[0]!,
      'LRN',
      [context.inLayout(node.inputs.x!, NCHW)],
      [
        attr.int('size', size),
        attr.float('alpha', Number(node.attrs.alpha ?? 1) * size),
        attr.float('beta', Number(node.attrs.beta ?? 0.5)),
        attr.float('bias', Number(node.attrs.bias ?? 1)),
      ],
      NCHW,
    );
  },
};
