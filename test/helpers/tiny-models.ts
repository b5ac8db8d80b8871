import * as tf from '@tensorflow/tfjs';

/** A small dense model with seeded weights: 8 -> 16 relu -> 4 softmax. */
export function tinyDenseModel(seed = 1): tf.LayersModel {
  const model = tf.sequential({ name: `tiny_dense_${seed}` });
  model.add(tf.layers.dense({ inputShape: [8], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed }) }));
  model.add(tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }));
  return model;
}

/** A small conv model with BatchNorm and two outputs, like the demo network in miniature. */
export function tinyConvModel(seed = 1): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 3] });
  const conv = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed }) })
    .apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization().apply(conv) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(tf.layers.activation({ activation: 'relu' }).apply(bn)) as tf.SymbolicTensor;
  const a = tf.layers
    .dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) })
    .apply(flat) as tf.SymbolicTensor;
  const b = tf.layers
    .dense({ units: 1, activation: 'tanh', kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 2 }) })
    .apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [a, b] });
}

/** Benchmark and validation settings small enough for unit tests. */
export const FAST_CONFIG = {
  backend: { preference: ['cpu'] },
  validation: { samples: 2 },
  benchmark: { warmup: 2, iterations: 10, endToEnd: false },
};
