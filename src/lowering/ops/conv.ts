import * as tf from '@tensorflow/tfjs';
import type { KernelNode } from '../../compiler/ir.js';
import type { KernelLowering } from '../kernel-lowering.js';
import { NCHW } from '../layout.js';
import type { LoweringContext } from '../lowering-context.js';
import { attr } from '../onnx-attributes.js';
import { applyFusedActivation } from './activation.js';
import { convPads, pair } from './conv-geometry.js';

/**
 * Conv2D, FusedConv2D, DepthwiseConv2dNative and FusedDepthwiseConv2D as one ONNX Conv
 * in NCHW (the input converted to NCHW unless it is held so already, the output held
 * in NCHW), the fused bias as Conv's bias and the fused activation after it. HWIO
 * filters become OIHW initializers; a depthwise filter [h, w, in, m] becomes a grouped
 * conv's [in * m, 1, h, w].
 */
export const convLowering: KernelLowering = {
  kernels: ['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D'],
  lower(node, context) {
    const format = node.attrs.dataFormat ?? 'NHWC';
    if (format !== 'NHWC' && format !== 'channelsLast') throw context.unsupported(node, `data format ${String(format)}`);
    const x = node.inputs.x!;
    const filter = node.inputs.filter!;
    const out = node.outputs[0]!;
    const depthwise = node.kernel.includes('Depthwise');
    const [kh, kw, cin] = context.shape(filter) as [number, number, number, number];
    const strides = pair(node.attrs.strides, 1);
    const dilations = pair(node.attrs.dilations, 1);
    const pads = convPads(context, node, context.shape(x), context.shape(out), [kh, kw], strides, dilations);
    const inputs = [context.inLayout(x, NCHW), onnxFilter(context, node, depthwise)];
    if (node.inputs.bias !== undefined) inputs.push(context.inLayout(node.inputs.bias, undefined));
    const conv = context.emit('Conv', inputs, [
      attr.ints('kernel_shape', [kh, kw]),
      attr.ints('strides', strides),
      attr.ints('dilations', dilations),
      attr.ints('pads', pads),
      attr.int('group', depthwise ? cin : 1),
    ])[0]!;
    context.define(out, applyFusedActivation(context, node, conv, NCHW), NCHW);
  },
};

/** The filter as ONNX Conv's weight [out, in / group, h, w]. */
function onnxFilter(context: LoweringContext, node: KernelNode, depthwise: boolean): string {
  const filter = node.inputs.filter!;
  const [kh, kw, cin, m] = context.shape(filter) as [number, number, number, number];
  const t = context.constant(filter);
  if (t) {
    return context.computedInitializer(
      () =>
        depthwise
          ? tf.reshape(tf.transpose(tf.reshape(t, [kh, kw, cin * m]), [2, 0, 1]), [cin * m, 1, kh, kw])
          : tf.transpose(t, [3, 2, 0, 1]),
      `w${filter}_oihw`,
    );
  }
  if (depthwise) {
    const flat = context.emit('Reshape', [context.inLayout(filter, undefined), context.int64([kh, kw, cin * m])])[0]!;
    const moved = context.emit('Transpose', [flat], [attr.ints('perm', [2, 0, 1])])[0]!;
    return context.emit('Reshape', [moved, context.int64([cin * m, 1, kh, kw])])[0]!;
  }
  return context.emit('Transpose', [context.inLayout(filter, undefined)], [attr.ints('perm', [3, 2, 0, 1])])[0]!;
}
