import type { ValueId } from '../../compiler/ir.js';
import { normalise, type Perm } from '../layout.js';
import type { LoweringContext } from '../lowering-context.js';

/**
 * The layout for an element-wise op whose output has rank `rank` over `operands`, and
 * their ONNX names in it. The op runs in the layout of the first operand of full rank
 * that is held in another layout than tf.js's (a conv output held in NCHW): weights
 * are transposed to it at lowering time, lower-rank operands broadcast to it, and any
 * other full-rank operand converted. Otherwise everything is in the tf.js layout,
 * where numpy broadcasting is what tf.js does.
 */
export function broadcastOperands(context: LoweringContext, operands: readonly ValueId[], rank: number): { perm: Perm; names: string[] } {
  const leader = operands.find((id) => context.rank(id) === rank && !context.isWeight(id) && normalise(context.layoutOf(id)) !== undefined);
  const perm = leader === undefined ? undefined : context.layoutOf(leader);
  if (perm === undefined) return { perm, names: operands.map((id) => context.inLayout(id, undefined)) };
  return {
    perm,
    names: operands.map((id) => (context.size(id) === 1 ? context.inLayout(id, undefined) : context.broadcastIn(id, rank, perm))),
  };
}
