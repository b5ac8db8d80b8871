import type { KernelLowering } from '../kernel-lowering.js';
import { attr } from '../onnx-attributes.js';

/** GatherV2 without batch dimensions as ONNX Gather, in the tf.js layout. */
export const gatherLowering: KernelLowering = {
  kernels: ['GatherV2'],
  lower(node, context) {
    if (Number(node.attrs.batchDims ?? 0) !== 0) throw context.unsupported(node, `batchDims ${String(node.attrs.batchDims)}`);
    const x = node.inputs.x!;
    const rank = context.rank(x);
    const raw = Number(node.attrs.axis ?? 0);
    const axis = raw < 0 ? raw + rank : raw;
    context.emitFor(
      node.outputs[0]!,
      'Gather',
      [context.inLayout(x, undefined), context.inLayout(node.inputs.indices!, undefined)],
      [attr.int('axis', axis)],
    );
  },
};

/** GatherNd as ONNX GatherND (its indices cast to int64), in the tf.js layout. */
export const gatherNdLowering: KernelLowering = {
  kernels: ['GatherNd'],
  lower(node, context) {
    const indices = context.emit('Cast', [context.inLayout(node.inputs.indices!, undefined)], [attr.int('to', 7)])[0]!;
    context.emitFor(node.outputs[0]!, 'GatherND', [context.inLayout(node.inputs.params!, undefined), indices]);
  },
};
