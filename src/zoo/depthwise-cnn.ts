import * as tf from '@tensorflow/tfjs';
import { seedCounter, seedNormalizationStatistics } from './seeding.js';

export interface DepthwiseCnnOptions {
  /** Channels of the 3x3 stride-2 stem conv (default 16). */
  readonly stemChannels?: number;
  /**
   * Pointwise output channels of the depthwise-separable blocks (default [32, 64, 128]).
   * The first block has stride 1, every later one stride 2.
   */
  readonly channels?: readonly number[];
  /** Output classes of the softmax (default 10). */
  readonly classes?: number;
  /** Dropout rate before the classifier (default 0.2; inference ignores it). */
  readonly dropout?: number;
  /** Seed of the weight initialisers (default 11), so every build is identical. */
  readonly seed?: number;
}

/** A 32x32 RGB image (CIFAR-sized). */
export const DEPTHWISE_CNN_INPUT_SHAPE = [32, 32, 3] as const;

/**
 * A MobileNet-style CNN on 32x32x3: a 3x3 stride-2 conv stem (no bias) + BN + relu6;
 * depthwise-separable blocks of DepthwiseConv2D 3x3 (no bias) + BN + relu6 + 1x1
 * pointwise Conv2D (no bias) + BN + relu6; one fused SeparableConv2D 3x3 (no bias) +
 * BN + relu6; global average pooling, dropout and a softmax classifier. Weights are
 * seeded and every BatchNorm gets seeded non-trivial gamma/beta/mean/variance, so
 * BN folding into depthwise, pointwise and separable convs is exercised for real.
 */
export function buildDepthwiseCnn(options: DepthwiseCnnOptions = {}): tf.LayersModel {
  const stemChannels = options.stemChannels ?? 16;
  const channels = options.channels ?? [32, 64, 128];
  const classes = options.classes ?? 10;
  const seed = options.seed ?? 11;
  const seeds = seedCounter(seed);
  const init = () => tf.initializers.heNormal({ seed: seeds.next() });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor;
  const bnRelu6 = (x: tf.SymbolicTensor, prefix: string) =>
    apply(
      tf.layers.activation({ activation: 'relu6', name: `${prefix}_relu6` }),
      apply(tf.layers.batchNormalization({ name: `${prefix}_bn` }), x),
    );

  const input = tf.input({ shape: [...DEPTHWISE_CNN_INPUT_SHAPE], name: 'image' });
  let x = apply(
    tf.layers.conv2d({
      filters: stemChannels,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(),
      name: 'stem_conv',
    }),
    input,
  );
  x = bnRelu6(x, 'stem');
  channels.forEach((filters, b) => {
    const strides = b === 0 ? 1 : 2;
    x = apply(
      tf.layers.depthwiseConv2d({
        kernelSize: 3,
        strides,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: init(),
        name: `block${b}_dw`,
      }),
      x,
    );
    x = bnRelu6(x, `block${b}_dw`);
    x = apply(
      tf.layers.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: init(), name: `block${b}_pw` }),
      x,
    );
    x = bnRelu6(x, `block${b}_pw`);
  });
  const last = channels[channels.length - 1] ?? stemChannels;
  x = apply(
    tf.layers.separableConv2d({
      filters: last,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      depthwiseInitializer: init(),
      pointwiseInitializer: init(),
      name: 'sep_conv',
    }),
    x,
  );
  x = bnRelu6(x, 'sep');
  x = apply(tf.layers.globalAveragePooling2d({ name: 'gap' }), x);
  x = apply(tf.layers.dropout({ rate: options.dropout ?? 0.2, seed: seeds.next(), name: 'dropout' }), x);
  const output = apply(
    tf.layers.dense({
      units: classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }),
      name: 'probs',
    }),
    x,
  );
  const model = tf.model({ inputs: input, outputs: output, name: 'depthwise_cnn' });
  seedNormalizationStatistics(model, seeds.next() * 1000);
  return model;
}
