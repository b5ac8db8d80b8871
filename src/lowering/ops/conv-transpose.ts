import * as tf from '@tensorflow/tfjs';
import type { KernelLowering } from '../kernel-lowering.js';
import { NCHW } from '../layout.js';
import { attr } from '../onnx-attributes.js';
import { convPads, pair } from './conv-geometry.js';

/**
 * Conv2DBackpropInput (tf.conv2dTranspose) as ONNX ConvTranspose in NCHW. The pads are
 * those of the forward conv from the output to `dy`; output_padding makes up the rows a
 * stride leaves over, so the output has tf.js's `inputShape`.
 */
export const convTransposeLowering: KernelLowering = {
  kernels: ['Conv2DBackpropInput'],
  lower(node, context) {
    const format = node.attrs.dataFormat ?? 'NHWC';
    if (format !== 'NHWC') throw context.unsupported(node, `data format ${String(format)}`);
    const dy = node.inputs.dy!;
    const filter = node.inputs.filter!;
    const out = node.outputs[0]!;
    const [kh, kw] = context.shape(filter) as [number, number, number, number];
    const strides = pair(node.attrs.strides, 1);
    const outShape = context.shape(out);
    const dyShape = context.shape(dy);
    const pads = convPads(context, node, outShape, dyShape, [kh, kw], strides, [1, 1]);
    const outputPadding = [0, 1].map(
      (i) => outShape[i + 1]! - (strides[i]! * (dyShape[i + 1]! - 1) + [kh, kw][i]! - pads[i]! - pads[i + 2]!),
    );
    if (outputPadding.some((p, i) => p < 0 || p >= strides[i]!))
      throw context.unsupported(node, `output size ${outShape.join('x')} out of reach of ConvTranspose`);
    const t = context.constant(filter);
    const weight = t
      ? context.computedInitializer(() => tf.transpose(t, [3, 2, 0, 1]), `w${filter}_iohw`)
      : context.emit('Transpose', [context.inLayout(filter, undefined)], [attr.ints('perm', [3, 2, 0, 1])])[0]!;
    const inputs = [context.inLayout(dy, NCHW), weight];
    if (node.inputs.bias !== undefined) inputs.push(context.inLayout(node.inputs.bias, undefined));
    context.emitFor(
      out,
      'ConvTranspose',
      inputs,
      [
        attr.ints('kernel_shape', [kh, kw]),
        attr.ints('strides', strides),
        attr.ints('pads', pads),
        attr.ints('output_padding', outputPadding),
      ],
      NCHW,
    );
  },
};
