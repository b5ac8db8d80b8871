/**
 * `fold-batchnorm`: folds an inference-mode BatchNormalization into the linear layer
 * right before it.
 *
 * At inference BN is `y = (x - mean) * s + beta` per channel with
 * `s = gamma / sqrt(movingVariance + epsilon)` (gamma = 1 when `scale: false`, beta = 0
 * when `center: false`). When x = conv(input) + bias, scaling the kernel's output
 * channels by s and setting `bias' = (bias - mean) * s + beta` gives the same y from
 * the conv alone, so the BN layer goes away.
 *
 * Which kernel axis is "output channels": every supported kernel ends in a block of
 * exactly the output channels (row-major), so scaling element e by s[e % C] scales
 * channel c everywhere:
 * - Dense [in, units], Conv1D [k, in, out], Conv2D [kh, kw, in, out], Conv3D [kd, kh, kw, in, out];
 * - DepthwiseConv2D [kh, kw, in, mult]: output channel i * mult + m, i.e. the trailing [in, mult] block;
 * - SeparableConv2D: the pointwise kernel [1, 1, in * mult, out] (the depthwise kernel is untouched).
 *
 * Arithmetic is in float64, rounded once to float32.
 */
import type { GraphLayer } from './layer-graph.js';
import { label, hasLinearActivation, isChannelsLast, singleInput, soleProducer } from './preconditions.js';
import type { LayerRewriteRule, RewriteContext, RuleVerdict } from './rule.js';
import type { Float32Weight } from './weight-store.js';

/** Producers BN folds into, and the name of the kernel weight whose trailing block is the output channels. */
const FOLD_KERNELS: Readonly<Record<string, { readonly kernel: string; readonly channels: (shape: readonly number[]) => number }>> = {
  Dense: { kernel: 'kernel', channels: (s) => s[s.length - 1]! },
  Conv1D: { kernel: 'kernel', channels: (s) => s[s.length - 1]! },
  Conv2D: { kernel: 'kernel', channels: (s) => s[s.length - 1]! },
  Conv3D: { kernel: 'kernel', channels: (s) => s[s.length - 1]! },
  DepthwiseConv2D: { kernel: 'depthwise_kernel', channels: (s) => s[s.length - 2]! * s[s.length - 1]! },
  SeparableConv2D: { kernel: 'pointwise_kernel', channels: (s) => s[s.length - 1]! },
};

export const FOLDABLE_CLASSES: readonly string[] = Object.keys(FOLD_KERNELS);

/** Whether BN's `axis` is the last axis of its input (-1, or rank - 1 when the rank is known). */
function axisIsLast(bn: GraphLayer, context: RewriteContext): string | undefined {
  let axis = bn.config.axis ?? -1;
  if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
  if (typeof axis !== 'number' || !Number.isInteger(axis))
    return `${label(bn)} has axis ${JSON.stringify(bn.config.axis)}, not a single axis`;
  if (axis === -1) return undefined;
  const rank = context.inputRankOf(bn.name);
  if (rank === undefined) return `${label(bn)} has axis ${axis} and the rank of its input is unknown`;
  if (axis === rank - 1) return undefined;
  return `${label(bn)} normalises axis ${axis} of a rank-${rank} input, not the last (channel) axis`;
}

interface BatchNormStats {
  readonly weightNames: readonly string[];
  readonly gamma: Float32Array | null;
  readonly beta: Float32Array | null;
  readonly mean: Float32Array;
  readonly variance: Float32Array;
  readonly epsilon: number;
}

function readBatchNorm(bn: GraphLayer, context: RewriteContext): BatchNormStats | string {
  const epsilon = bn.config.epsilon ?? 1e-3;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0)
    return `${label(bn)} has epsilon ${JSON.stringify(bn.config.epsilon)}`;
  const wanted = [
    ...(bn.config.scale === false ? [] : ['gamma']),
    ...(bn.config.center === false ? [] : ['beta']),
    'moving_mean',
    'moving_variance',
  ];
  const read: Record<string, Float32Weight> = {};
  for (const w of wanted) {
    const got = context.weights.readFloat32(`${bn.name}/${w}`);
    if (typeof got === 'string') return got;
    if (got.shape.length !== 1) return `weight ${bn.name}/${w} has shape [${got.shape.join(', ')}], expected one axis`;
    read[w] = got;
  }
  const channels = read.moving_mean!.values.length;
  if (wanted.some((w) => read[w]!.values.length !== channels)) return `the weights of ${label(bn)} disagree on the channel count`;
  return {
    weightNames: wanted.map((w) => `${bn.name}/${w}`),
    gamma: read.gamma?.values ?? null,
    beta: read.beta?.values ?? null,
    mean: read.moving_mean!.values,
    variance: read.moving_variance!.values,
    epsilon,
  };
}

function check(bn: GraphLayer, context: RewriteContext): RuleVerdict {
  const input = singleInput(bn);
  const layers = typeof input === 'string' ? [bn.name] : [input.layer, bn.name];
  const skip = (reason: string): RuleVerdict => ({ kind: 'skip', layers, reason });
  if (typeof input === 'string') return skip(input);

  const axisProblem = axisIsLast(bn, context);
  if (axisProblem) return skip(axisProblem);
  const found = soleProducer(context.graph, bn, (p) =>
    FOLD_KERNELS[p.className] ? undefined : `producer ${label(p)} is not one of ${FOLDABLE_CLASSES.join(', ')}`,
  );
  if ('reason' in found) return skip(found.reason);
  const producer = found.producer;
  if (!hasLinearActivation(producer.config)) {
    return skip(
      `producer ${label(producer)} has activation ${JSON.stringify(producer.config.activation)}; BN can only fold into a linear output`,
    );
  }
  if (!isChannelsLast(producer.config))
    return skip(`producer ${label(producer)} is ${String(producer.config.data_format)}, not channels_last`);

  const stats = readBatchNorm(bn, context);
  if (typeof stats === 'string') return skip(stats);
  const spec = FOLD_KERNELS[producer.className]!;
  const kernelName = `${producer.name}/${spec.kernel}`;
  const kernel = context.weights.readFloat32(kernelName);
  if (typeof kernel === 'string') return skip(kernel);
  const channels = spec.channels(kernel.shape);
  if (channels !== stats.mean.length) {
    return skip(`${label(producer)} produces ${channels} channels but ${label(bn)} normalises ${stats.mean.length}`);
  }
  const biasName = `${producer.name}/bias`;
  const hasBias = producer.config.use_bias !== false;
  let bias: Float32Array | null = null;
  if (hasBias) {
    const read = context.weights.readFloat32(biasName);
    if (typeof read === 'string') return skip(read);
    if (read.values.length !== channels) return skip(`bias ${biasName} has ${read.values.length} values for ${channels} channels`);
    bias = read.values;
  } else if (context.weights.has(biasName)) {
    return skip(`${label(producer)} has use_bias false but a weight ${biasName}`);
  }

  const scale = new Float64Array(channels);
  const newBias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = (stats.gamma ? stats.gamma[c]! : 1) / Math.sqrt(stats.variance[c]! + stats.epsilon);
    scale[c] = s;
    newBias[c] = ((bias ? bias[c]! : 0) - stats.mean[c]!) * s + (stats.beta ? stats.beta[c]! : 0);
  }
  const newKernel = new Float32Array(kernel.values.length);
  for (let e = 0; e < newKernel.length; e++) newKernel[e] = kernel.values[e]! * scale[e % channels]!;
  if (!scale.every(Number.isFinite) || !newBias.every(Number.isFinite) || !newKernel.every(Number.isFinite)) {
    return skip(`folding ${label(bn)} gives non-finite weights (check its moving variance, epsilon and gamma)`);
  }

  return {
    kind: 'rewrite',
    layers: [producer.name, bn.name],
    apply: () => {
      const { weights, graph } = context;
      weights.setFloat32(kernelName, kernel.shape, newKernel);
      weights.setFloat32(biasName, [channels], newBias, weights.namesOfLayer(producer.name).at(-1));
      producer.config = { ...producer.config, use_bias: true };
      for (const name of stats.weightNames) weights.delete(name);
      graph.removeAndBypass(bn.name);
    },
  };
}

export const foldBatchNormLayers: LayerRewriteRule = {
  name: 'fold-batchnorm',
  description: `fold inference BatchNormalization (last axis) into the ${FOLDABLE_CLASSES.join('/')} before it`,
  computesWeights: true,
  isAnchor: (layer) => layer.className === 'BatchNormalization',
  check,
};
