import type { KernelLowering } from '../kernel-lowering.js';
import { conversion } from '../layout.js';
import { attr } from '../onnx-attributes.js';

/**
 * Transpose: a value held in layout P whose transpose by `perm` is wanted needs ONNX
 * perm `inverse(P)[perm[i]]`; that is no node at all when the two cancel (the
 * NHWC -> NCHW transpose of a GraphModel before an op that Kiln already runs in NCHW).
 */
export const transposeLowering: KernelLowering = {
  kernels: ['Transpose'],
  lower(node, context) {
    const x = node.inputs.x!;
    const out = node.outputs[0]!;
    const rank = context.rank(x);
    const perm = (node.attrs.perm as number[]).map((p) => (p < 0 ? p + rank : p));
    const held = context.get(x);
    // the output, in the tf.js layout, is the input held in layout `perm`
    const onnxPerm = conversion(held.perm, perm, rank);
    if (onnxPerm.every((p, i) => p === i)) context.define(out, held.name);
    else context.emitFor(out, 'Transpose', [held.name], [attr.ints('perm', onnxPerm)]);
  },
};
