import * as tf from '@tensorflow/tfjs';
import { FoldedValue, type GraphValue, type KernelNode } from '../../../../compiler/ir.js';
import { normaliseConvAttrs } from '../activations.js';
import type { GraphTools } from '../fusion-pattern.js';
import { pairPattern } from '../pair-pattern.js';

const CONVS = ['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D'];

/**
 * Inference BatchNorm folded into the convolution before it: y = (conv(x, W) + b - mean)
 * * scale / sqrt(var + eps) + offset becomes conv(x, W * s) + (b - mean) * s + offset with
 * s = scale / sqrt(var + eps), one FusedConv2D / FusedDepthwiseConv2D instead of two
 * kernels. The folded filter and bias follow the BatchNorm and conv variables (they are
 * recomputed when one is assigned). Not in training mode, where BatchNorm uses batch
 * statistics and gradients must flow to its parameters.
 */
export const foldBatchNormKernels = pairPattern({
  name: 'fold-batchnorm',
  description: 'fold inference BatchNorm into the conv or depthwise conv before it',
  trainingSafe: false,
  first: CONVS,
  then: ['FusedBatchNorm'],
  key: 'anchor',
  rewrite(conv, bn, context, tools) {
    const fused = conv.kernel.includes('Depthwise') ? 'FusedDepthwiseConv2D' : 'FusedConv2D';
    if (!foldable(conv, bn, tools) || !tf.getKernel(fused, context.backend)) return undefined;
    const folded = foldedWeights(conv, bn, tools);
    if (!folded) return undefined;
    const [filterValue, biasValue] = folded;
    return {
      kernel: fused,
      inputs: { x: conv.inputs.x!, filter: filterValue.id, bias: biasValue.id },
      positional: false,
      attrs: normaliseConvAttrs(conv.attrs),
      newValues: folded,
    };
  },
});

/** The conv is linear NHWC with weight filter and bias; the BatchNorm normalises its output with weight parameters. */
function foldable(conv: KernelNode, bn: KernelNode, tools: GraphTools): boolean {
  if ((conv.attrs.activation ?? 'linear') !== 'linear' || conv.inputs.preluActivationWeights !== undefined) return false;
  if ((conv.attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !tools.isWeight(conv.inputs.filter)) return false;
  if (conv.inputs.bias !== undefined && !tools.isWeight(conv.inputs.bias)) return false;
  if (bn.inputs.x !== conv.outputs[0]) return false;
  const params = ['mean', 'variance', 'offset', 'scale'] as const;
  if (!tools.isWeight(bn.inputs.mean) || !tools.isWeight(bn.inputs.variance)) return false;
  return !params.some((p) => bn.inputs[p] !== undefined && !tools.isWeight(bn.inputs[p]));
}

/**
 * The folded filter and bias, as values computed from the conv's and the BatchNorm's
 * weights (recomputed when one is assigned); undefined when the BatchNorm's channels
 * are not the conv's output channels.
 */
function foldedWeights(conv: KernelNode, bn: KernelNode, tools: GraphTools): [GraphValue, GraphValue] | undefined {
  const depthwise = conv.kernel.includes('Depthwise');
  const filter = tools.weightSource(conv.inputs.filter!);
  const channels = tools.value(bn.inputs.mean!).shape[0]!;
  const outChannels = depthwise ? filter.shape[2]! * filter.shape[3]! : filter.shape[3]!;
  if (channels !== outChannels) return undefined;
  const src = {
    filter,
    bias: conv.inputs.bias !== undefined ? tools.weightSource(conv.inputs.bias) : undefined,
    mean: tools.weightSource(bn.inputs.mean!),
    variance: tools.weightSource(bn.inputs.variance!),
    offset: bn.inputs.offset !== undefined ? tools.weightSource(bn.inputs.offset) : undefined,
    scale: bn.inputs.scale !== undefined ? tools.weightSource(bn.inputs.scale) : undefined,
  };
  const eps = Number(bn.attrs.varianceEpsilon ?? 1e-3);
  const sources = Object.values(src).filter((t): t is tf.Tensor => t !== undefined);
  const pick = (all: readonly tf.Tensor[], t: tf.Tensor | undefined) => (t ? all[sources.indexOf(t)] : undefined);
  const factor = (all: readonly tf.Tensor[]) => {
    const inv = tf.rsqrt(tf.add(pick(all, src.variance)!, eps));
    const scale = pick(all, src.scale);
    return scale ? tf.mul(inv, scale) : inv;
  };
  const layer = [conv.layer, bn.layer].filter(Boolean).join(' + ');
  const filterValue: GraphValue = {
    id: tools.newValueId(),
    kind: 'folded',
    shape: filter.shape,
    dtype: 'float32',
    folded: new FoldedValue(
      sources,
      (all) => {
        const s = factor(all);
        const w = pick(all, src.filter)!;
        return tf.mul(w, depthwise ? tf.reshape(s, [w.shape[2]!, w.shape[3]!]) : s);
      },
      `filter of ${layer}`,
    ),
  };
  const biasValue: GraphValue = {
    id: tools.newValueId(),
    kind: 'folded',
    shape: [channels],
    dtype: 'float32',
    folded: new FoldedValue(
      sources,
      (all) => {
        const s = factor(all);
        const b = pick(all, src.bias);
        const centred = tf.sub(b ? tf.reshape(b, [channels]) : tf.zeros([channels]), pick(all, src.mean)!);
        const offset = pick(all, src.offset);
        return offset ? tf.add(tf.mul(centred, s), offset) : tf.mul(centred, s);
      },
      `bias of ${layer}`,
    ),
  };
  return [filterValue, biasValue];
}
