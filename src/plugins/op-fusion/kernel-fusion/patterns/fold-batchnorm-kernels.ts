import * as tf from '@tensorflow/tfjs';
import { FoldedValue, type GraphValue, type KernelNode } from '../../../../compiler/ir.js';
import { normaliseConvAttrs } from '../activations.js';
import type { FusionPattern, FusionSite, GraphTools } from '../fusion-pattern.js';

const CONVS = new Set(['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D']);

/**
 * Inference BatchNorm folded into the convolution before it: y = (conv(x, W) + b - mean)
 * * scale / sqrt(var + eps) + offset becomes conv(x, W * s) + (b - mean) * s + offset with
 * s = scale / sqrt(var + eps), one FusedConv2D / FusedDepthwiseConv2D instead of two
 * kernels. The folded filter and bias follow the BatchNorm and conv variables (they are
 * recomputed when one is assigned). Not in training mode, where BatchNorm uses batch
 * statistics and gradients must flow to its parameters.
 */
export const foldBatchNormKernels: FusionPattern = {
  name: 'fold-batchnorm',
  description: 'fold inference BatchNorm into the conv or depthwise conv before it',
  trainingSafe: false,
  match(graph, context, tools) {
    const sites: FusionSite[] = [];
    for (const conv of graph.nodes) {
      if (!CONVS.has(conv.kernel)) continue;
      const depthwise = conv.kernel.includes('Depthwise');
      if ((conv.attrs.activation ?? 'linear') !== 'linear' || conv.inputs.preluActivationWeights !== undefined) continue;
      if ((conv.attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !tools.isWeight(conv.inputs.filter)) continue;
      if (conv.inputs.bias !== undefined && !tools.isWeight(conv.inputs.bias)) continue;
      const bn = tools.soleConsumer(conv.outputs[0]!);
      if (!bn || bn.kernel !== 'FusedBatchNorm' || bn.inputs.x !== conv.outputs[0]) continue;
      const params = ['mean', 'variance', 'offset', 'scale'] as const;
      if (!tools.isWeight(bn.inputs.mean) || !tools.isWeight(bn.inputs.variance)) continue;
      if (params.some((p) => bn.inputs[p] !== undefined && !tools.isWeight(bn.inputs[p]))) continue;
      const fused = depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D';
      if (!tf.getKernel(fused, context.backend)) continue;
      const filter = tools.weightSource(conv.inputs.filter!);
      const channels = tools.value(bn.inputs.mean!).shape[0];
      const outChannels = depthwise ? filter.shape[2]! * filter.shape[3]! : filter.shape[3]!;
      if (channels !== outChannels) continue;

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
        folded: new FoldedValue(sources, (all) => {
          const s = factor(all);
          const w = pick(all, src.filter)!;
          return tf.mul(w, depthwise ? tf.reshape(s, [w.shape[2]!, w.shape[3]!]) : s);
        }, `filter of ${layer}`),
      };
      const biasValue: GraphValue = {
        id: tools.newValueId(),
        kind: 'folded',
        shape: [channels],
        dtype: 'float32',
        folded: new FoldedValue(sources, (all) => {
          const s = factor(all);
          const b = pick(all, src.bias);
          const centred = tf.sub(b ? tf.reshape(b, [channels]) : tf.zeros([channels]), pick(all, src.mean)!);
          const offset = pick(all, src.offset);
          return offset ? tf.add(tf.mul(centred, s), offset) : tf.mul(centred, s);
        }, `bias of ${layer}`),
      };
      const replacement: KernelNode = {
        id: conv.id,
        kernel: fused,
        inputs: { x: conv.inputs.x!, filter: filterValue.id, bias: biasValue.id },
        positional: false,
        attrs: normaliseConvAttrs(conv.attrs),
        outputs: bn.outputs,
        returnsList: bn.returnsList,
        layer: conv.layer,
      };
      sites.push({ pattern: this.name, key: `${this.name}@${conv.id}`, anchor: conv.id, removes: [conv.id, bn.id], replacement, newValues: [filterValue, biasValue], layers: [conv.layer, bn.layer].filter((l): l is string => !!l) });
    }
    return sites;
  },
};
