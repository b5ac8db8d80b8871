import * as tf from '@tensorflow/tfjs';
import type { ValueId } from '../../compiler/ir.js';
import type { KernelLowering } from '../kernel-lowering.js';
import { identity } from '../layout.js';
import type { LoweringContext } from '../lowering-context.js';
import { attr } from '../onnx-attributes.js';
import { applyFusedActivation } from './activation.js';

/** An operand of a matmul in the tf.js layout, its last two axes swapped when `transpose` (a weight swapped at lowering time). */
function operand(context: LoweringContext, id: ValueId, transpose: boolean): string {
  if (!transpose) return context.inLayout(id, undefined);
  const rank = context.rank(id);
  const perm = identity(rank);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  const t = context.constant(id);
  if (t) return context.computedInitializer(() => tf.transpose(t, perm), `w${id}_t`);
  return context.emit('Transpose', [context.inLayout(id, undefined)], [attr.ints('perm', perm)])[0]!;
}

/** BatchMatMul (MatMul) and _FusedMatMul as ONNX MatMul (broadcasting batch axes as tf.js does), plus the bias Add and the fused activation. */
export const matmulLowering: KernelLowering = {
  kernels: ['BatchMatMul', '_FusedMatMul', 'MatMul'],
  lower(node, context) {
    const out = node.outputs[0]!;
    const a = operand(context, node.inputs.a!, Boolean(node.attrs.transposeA));
    const b = operand(context, node.inputs.b!, Boolean(node.attrs.transposeB));
    let result = context.emit('MatMul', [a, b])[0]!;
    if (node.inputs.bias !== undefined) result = context.emit('Add', [result, context.inLayout(node.inputs.bias, undefined)])[0]!;
    context.define(out, applyFusedActivation(context, node, result, undefined));
  },
};

/** Einsum as ONNX Einsum with the same equation, in the tf.js layout. */
export const einsumLowering: KernelLowering = {
  kernels: ['Einsum'],
  lower(node, context) {
    const operands = Object.keys(node.inputs)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => context.inLayout(node.inputs[k]!, undefined));
    context.emitFor(node.outputs[0]!, 'Einsum', operands, [attr.string('equation', String(node.attrs.equation))]);
  },
};
