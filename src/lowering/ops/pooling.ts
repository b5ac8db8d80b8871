import type { KernelLowering } from '../kernel-lowering.js';
import { NCHW } from '../layout.js';
import { attr } from '../onnx-attributes.js';
import { convPads, pair } from './conv-geometry.js';

/** MaxPool and AvgPool as ONNX MaxPool / AveragePool in NCHW (padding left out of the average, as TF does). */
export const poolingLowering: KernelLowering = {
  kernels: ['MaxPool', 'AvgPool'],
  lower(node, context) {
    const x = node.inputs.x!;
    const out = node.outputs[0]!;
    const kernel = pair(node.attrs.filterSize, 1);
    const strides = pair(node.attrs.strides, 1);
    const pads = convPads(context, node, context.shape(x), context.shape(out), kernel, strides, [1, 1]);
    const attributes = [attr.ints('kernel_shape', kernel), attr.ints('strides', strides), attr.ints('pads', pads)];
    if (node.kernel === 'AvgPool') attributes.push(attr.int('count_include_pad', 0));
    context.emitFor(out, node.kernel === 'MaxPool' ? 'MaxPool' : 'AveragePool', [context.inLayout(x, NCHW)], attributes, NCHW);
  },
};
