import type { KernelLowering } from '../kernel-lowering.js';
import { layoutAfterDropping, onnxAxis } from '../layout.js';
import { attr } from '../onnx-attributes.js';

const REDUCE: Readonly<Record<string, string>> = {
  Mean: 'ReduceMean',
  Sum: 'ReduceSum',
  Max: 'ReduceMax',
  Min: 'ReduceMin',
  Prod: 'ReduceProd',
};

/**
 * Mean, Sum, Max, Min and Prod over axes, in the layout of the input (the axes mapped
 * to it); without keepDims the result's layout is what is left of the input's (a global
 * average pool of an NCHW value is an [N, C] value in the tf.js layout). ArgMax and
 * ArgMin give int64 in ONNX, cast to tf.js's int32.
 */
export const reductionLowering: KernelLowering = {
  kernels: [...Object.keys(REDUCE), 'ArgMax', 'ArgMin'],
  lower(node, context) {
    const x = node.inputs.x!;
    const out = node.outputs[0]!;
    const rank = context.rank(x);
    const { name, perm } = context.get(x);
    const raw = node.attrs.axis ?? node.attrs.reductionIndices ?? node.attrs.dimension;
    const tfAxes = (raw == null ? [...Array(rank).keys()] : Array.isArray(raw) ? (raw as number[]) : [Number(raw)]).map((a) =>
      a < 0 ? a + rank : a,
    );
    const axes = tfAxes.map((a) => onnxAxis(a, rank, perm));
    if (node.kernel === 'ArgMax' || node.kernel === 'ArgMin') {
      const index = context.emit(node.kernel, [name], [attr.int('axis', axes[0]!), attr.int('keepdims', 0)])[0]!;
      context.emitFor(out, 'Cast', [index], [attr.int('to', 6)], layoutAfterDropping(perm, rank, tfAxes));
      return;
    }
    const keepDims = Boolean(node.attrs.keepDims);
    const layout = keepDims ? perm : layoutAfterDropping(perm, rank, tfAxes);
    if (tfAxes.length === 0) {
      context.define(out, name, perm);
      return;
    }
    // opset 17: ReduceSum takes its axes as an input, the others as an attribute
    if (node.kernel === 'Sum')
      context.emitFor(out, 'ReduceSum', [name, context.int64(axes)], [attr.int('keepdims', keepDims ? 1 : 0)], layout);
    else context.emitFor(out, REDUCE[node.kernel]!, [name], [attr.ints('axes', axes), attr.int('keepdims', keepDims ? 1 : 0)], layout);
  },
};
