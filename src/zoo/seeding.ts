import * as tf from '@tensorflow/tfjs';

/**
 * A counter of initialiser seeds: `next()` returns `start`, `start + 1`, ... but never
 * 0, because tf.js's normal/truncated-normal generators treat a seed of 0 as "no
 * seed" and would draw different weights on every build.
 */
export function seedCounter(start: number): { next(): number; peek(): number } {
  let seed = start;
  return {
    next(): number {
      if (seed === 0) seed++;
      return seed++;
    },
    peek(): number {
      return seed === 0 ? 1 : seed;
    },
  };
}

/**
 * Gives every BatchNormalization (gamma, beta, moving mean, moving variance) and
 * LayerNormalization (gamma, beta) layer seeded, non-trivial values: fresh layers are
 * the identity, which hides folding and validation bugs. Weights are matched by name
 * so a layer built with `center: false` or `scale: false` still gets the right values.
 * The layer's live variables are never disposed: new tensors go in via `setWeights`
 * and are disposed afterwards.
 */
export function seedNormalizationStatistics(model: tf.LayersModel, seed: number): void {
  model.layers.forEach((layer, i) => {
    const cls = layer.getClassName();
    if (cls !== 'BatchNormalization' && cls !== 'LayerNormalization') return;
    const values = tf.tidy(() =>
      layer.weights.map((w, k) => {
        const s = seed + 4 * i + k + 1; // + 1: never 0
        const name = w.originalName.split('/').pop() ?? '';
        const around1 = name === 'gamma' || name === 'moving_variance';
        return around1
          ? tf.randomUniform(w.shape as number[], 0.8, 1.2, 'float32', s)
          : tf.randomUniform(w.shape as number[], -0.1, 0.1, 'float32', s);
      }),
    );
    layer.setWeights(values);
    tf.dispose(values);
  });
}
