import * as tf from '@tensorflow/tfjs';
import { seedCounter } from './seeding.js';

export interface MlpOptions {
  /** Units of the hidden relu layers (default [512, 512]). */
  readonly hidden?: readonly number[];
  /** Output classes of the softmax (default 10). */
  readonly classes?: number;
  /** Seed of the weight initialisers (default 7), so every build is identical. */
  readonly seed?: number;
}

/** A flattened 28x28 image: the input of the MNIST-style MLP. */
export const MLP_INPUT_SHAPE = [784] as const;

/**
 * The classic MNIST multilayer perceptron: Dense 784-512-512-10 with relu hidden
 * layers and a softmax output. Kernels and biases are seeded (biases are small
 * non-zero values so bias folding and quantisation see realistic numbers).
 */
export function buildMlp(options: MlpOptions = {}): tf.LayersModel {
  const hidden = options.hidden ?? [512, 512];
  const classes = options.classes ?? 10;
  const seeds = seedCounter(options.seed ?? 7);
  const dense = (x: tf.SymbolicTensor, units: number, activation: 'relu' | 'softmax', name: string) =>
    tf.layers
      .dense({
        units,
        activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }),
        biasInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seeds.next() }),
        name,
      })
      .apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: [...MLP_INPUT_SHAPE], name: 'pixels' });
  let x = input;
  hidden.forEach((units, i) => {
    x = dense(x, units, 'relu', `hidden${i + 1}`);
  });
  const output = dense(x, classes, 'softmax', 'probs');
  return tf.model({ inputs: input, outputs: output, name: 'mlp' });
}
