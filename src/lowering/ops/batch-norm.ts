import * as tf from '@tensorflow/tfjs';
import type { ValueId } from '../../compiler/ir.js';
import type { KernelLowering } from '../kernel-lowering.js';
import type { LoweringContext } from '../lowering-context.js';
import { broadcastOperands } from './broadcast.js';

/**
 * FusedBatchNorm, `(x - mean) / sqrt(variance + eps) * scale + offset`. With weights for
 * mean, variance, scale and offset (a BatchNormalization layer), one Mul and one Add by
 * folded per-channel weights, in the layout of `x` (ORT folds them into the conv before);
 * otherwise (a LayerNormalization, which feeds computed statistics) the formula op by op.
 */
export const batchNormLowering: KernelLowering = {
  kernels: ['FusedBatchNorm'],
  lower(node, context) {
    const { x, mean, variance, scale, offset } = node.inputs as Record<string, ValueId | undefined>;
    const out = node.outputs[0]!;
    const rank = context.rank(out);
    const eps = Number(node.attrs.varianceEpsilon ?? 0.001);
    const weights = [mean!, variance!, scale, offset].filter((v): v is ValueId => v !== undefined);
    if (weights.every((w) => context.isWeight(w))) {
      const [m, v] = [context.constant(mean!)!, context.constant(variance!)!];
      const s = scale === undefined ? undefined : context.constant(scale)!;
      const o = offset === undefined ? undefined : context.constant(offset)!;
      const multiplier = tf.tidy(() => (s ? tf.mul(tf.rsqrt(tf.add(v, eps)), s) : tf.rsqrt(tf.add(v, eps))));
      const shift = tf.tidy(() => (o ? tf.sub(o, tf.mul(m, multiplier)) : tf.neg(tf.mul(m, multiplier))));
      try {
        const mulId = context.addWeight(multiplier);
        const addId = context.addWeight(shift);
        const scaled = broadcastOperands(context, [x!, mulId], rank);
        const product = context.emit('Mul', scaled.names)[0]!;
        const shifted = broadcastOperands(context, [x!, addId], rank);
        context.emitFor(out, 'Add', [product, shifted.names[1]!], [], scaled.perm);
      } finally {
        tf.dispose([multiplier, shift]);
      }
      return;
    }
    const all = broadcastOperands(
      context,
      [x!, mean!, variance!, ...(scale === undefined ? [] : [scale]), ...(offset === undefined ? [] : [offset])],
      rank,
    );
    const [xn, mn, vn, ...rest] = all.names as [string, string, string, ...string[]];
    const centred = context.emit('Sub', [xn, mn])[0]!;
    const std = context.emit('Sqrt', [context.emit('Add', [vn, context.float(eps)])[0]!])[0]!;
    let result = context.emit('Div', [centred, std])[0]!;
    if (scale !== undefined) result = context.emit('Mul', [result, rest.shift()!])[0]!;
    if (offset !== undefined) result = context.emit('Add', [result, rest.shift()!])[0]!;
    context.define(out, result, all.perm);
  },
};
