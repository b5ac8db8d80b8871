import * as tf from '@tensorflow/tfjs';
import { ATTENTION_INPUT_SHAPE, buildAttentionBlock } from './attention-block.js';
import { buildCustomLayerModel, CUSTOM_LAYER_INPUT_SHAPE } from './custom-layer-model.js';
import { buildDepthwiseCnn, DEPTHWISE_CNN_INPUT_SHAPE } from './depthwise-cnn.js';
import { buildMlp, MLP_INPUT_SHAPE } from './mlp.js';
import { buildShogiResNet, SHOGI_INPUT_SHAPE, SHOGI_POLICY_SIZE } from './shogi-resnet.js';

export * from './attention-block.js';
export * from './custom-layer-model.js';
export * from './depthwise-cnn.js';
export * from './mlp.js';
export * from './shogi-resnet.js';
export { seedCounter, seedNormalizationStatistics } from './seeding.js';

export type ZooName = 'shogi-resnet' | 'mlp' | 'depthwise-cnn' | 'attention-block' | 'custom-layer';

export interface ZooBuildOptions {
  /** A scaled-down version for fast tests; same input and output shapes. */
  readonly small?: boolean;
  /** Overrides the builder's default weight seed (same seed, same weights). */
  readonly seed?: number;
}

export interface ZooEntry {
  readonly name: ZooName;
  readonly description: string;
  /** Builds a fresh model with seeded weights; the caller disposes it. */
  build(options?: ZooBuildOptions): tf.LayersModel;
  /** Shape of the (single) input, without the batch dimension. */
  readonly inputShape: number[];
  /** Shape of every output in model order, without the batch dimension (small or full). */
  readonly outputShapes: number[][];
}

export const ZOO: Readonly<Record<ZooName, ZooEntry>> = {
  'shogi-resnet': {
    name: 'shogi-resnet',
    description: 'Shogi policy/value ResNet (9x9x46 -> 2187 softmax + tanh value); 4 blocks x 64 ch, small: 1 block x 16 ch',
    build: ({ small, seed } = {}) => buildShogiResNet(small ? { blocks: 1, channels: 16, seed } : { seed }),
    inputShape: [...SHOGI_INPUT_SHAPE],
    outputShapes: [[SHOGI_POLICY_SIZE], [1]],
  },
  mlp: {
    name: 'mlp',
    description: 'MNIST MLP, Dense 784-512-512-10 (relu, relu, softmax); small: hidden 64-64',
    build: ({ small, seed } = {}) => buildMlp(small ? { hidden: [64, 64], seed } : { seed }),
    inputShape: [...MLP_INPUT_SHAPE],
    outputShapes: [[10]],
  },
  'depthwise-cnn': {
    name: 'depthwise-cnn',
    description:
      'MobileNet-style depthwise-separable CNN on 32x32x3 with BN + relu6 and a SeparableConv2D; 16/32/64/128 ch, small: 8/8/16/32 ch',
    build: ({ small, seed } = {}) => buildDepthwiseCnn(small ? { stemChannels: 8, channels: [8, 16, 32], seed } : { seed }),
    inputShape: [...DEPTHWISE_CNN_INPUT_SHAPE],
    outputShapes: [[10]],
  },
  'attention-block': {
    name: 'attention-block',
    description:
      'Transformer encoder block on 16x32 tokens: custom KilnSelfAttention + residual + LayerNorm + FFN 64 + residual; small: FFN 16',
    build: ({ small, seed } = {}) => buildAttentionBlock(small ? { ffnUnits: 16, seed } : { seed }),
    inputShape: [...ATTENTION_INPUT_SHAPE],
    outputShapes: [[...ATTENTION_INPUT_SHAPE]],
  },
  'custom-layer': {
    name: 'custom-layer',
    description: 'Dense 20-64 -> custom KilnScaledSwish (x * sigmoid(beta * x)) -> Dense 10 softmax; small: hidden 16',
    build: ({ small, seed } = {}) => buildCustomLayerModel(small ? { hidden: 16, seed } : { seed }),
    inputShape: [...CUSTOM_LAYER_INPUT_SHAPE],
    outputShapes: [[10]],
  },
};

/** Every zoo entry, in a stable order. */
export function listZoo(): ZooEntry[] {
  return Object.values(ZOO);
}

/**
 * Seeded standard-normal inputs for `entry` (one tensor per model input) of the given
 * batch size; the caller disposes them. The tf.js seed is `seed + 1` because tf.js
 * treats a seed of 0 as "unseeded", so pass seed >= 0.
 */
export function zooSampleInputs(entry: ZooEntry, batch: number, seed: number): tf.Tensor[] {
  return [tf.randomNormal([batch, ...entry.inputShape], 0, 1, 'float32', seed + 1)];
}
