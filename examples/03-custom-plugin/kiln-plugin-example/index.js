'use strict';
/**
 * kiln-plugin-example: a Kiln plugin in its own package, written against tfjs-kiln's
 * public exports only (plain CommonJS, no build step, no decorators syntax needed).
 *
 * prune-small-weights zeroes every kernel weight whose magnitude is below `threshold`
 * (magnitude pruning) and ships each kernel sparse (one int32 index and one float32
 * value per non-zero) where that is smaller than dense. Its objective is size: the
 * pipeline keeps it only if the pruned model still matches the original within the
 * configured tolerance AND is smaller by benchmark.minSizeGain. A model whose small
 * weights are noise (left behind by L1 regularisation, say) prunes well; a model
 * whose small weights matter is rejected with "numerical mismatch".
 */
const tf = require('@tensorflow/tfjs');
const kiln = require('tfjs-kiln');

/** `options:` of the plugin, validated like the rest of kiln.yaml (no unknown keys). */
class PruneOptions {
  constructor() {
    /** Kernel weights with |w| below this become 0. A number >= 0. Default 0.01. */
    this.threshold = 0.01;
  }
}
// Without TypeScript, a decorator is a function applied by hand: (prototype, property name).
kiln.IsNumberInRange({ min: 0 })(PruneOptions.prototype, 'threshold');

const BYTES_PER_VALUE = 4;
const BYTES_PER_SPARSE_ENTRY = 8; // int32 flat index + float32 value

/** A LayersModel that Kiln owns (dispose frees it), whose weights ship sparse. */
class PrunedModel extends kiln.LayersKilnModel {
  constructor(layersModel, backend, artifactBytes, description) {
    super(layersModel, backend, true, description);
    /** Read by the pipeline to judge a size plugin. */
    this.artifactBytes = artifactBytes;
  }
}

class PruneSmallWeights {
  isAvailable(context) {
    if (context.mode === 'training') {
      return kiln.unavailable('training mode: pruned weights would grow back at the first optimiser step; prune the trained model');
    }
    return kiln.AVAILABLE;
  }

  /**
   * Never touches `target` or its weights: it prunes a copy. Returns `target` itself
   * (reported as skipped, with the last note) when there is nothing to prune.
   */
  async apply(target, context) {
    const source = target.layersModel;
    if (!source) {
      context.note(`${target.description} has no LayersModel to prune`);
      return target;
    }
    const threshold = context.options.threshold;
    const copy = await kiln.cloneLayersModel(source, target.backend);
    let total = 0;
    let zeroed = 0;
    let bytes = 0;
    const rows = [];
    try {
      for (const layer of copy.layers) {
        const weights = layer.getWeights(); // the layer's own variables: read, never dispose
        if (!weights.length) continue;
        const pruned = weights.map((w) => {
          const size = w.size;
          // Biases, scales and other vectors stay dense: they are few and rarely small by accident.
          if (w.rank < 2 || w.dtype !== 'float32') {
            bytes += size * BYTES_PER_VALUE;
            return undefined;
          }
          const kept = tf.tidy(() => tf.mul(w, tf.cast(tf.greaterEqual(tf.abs(w), threshold), 'float32')));
          const nonZero = countNonZero(kept);
          total += size;
          zeroed += size - nonZero;
          bytes += Math.min(size * BYTES_PER_VALUE, nonZero * BYTES_PER_SPARSE_ENTRY);
          rows.push({ layer: layer.name, weights: size, zeroed: size - nonZero, sparsity: round((size - nonZero) / size) });
          return kept;
        });
        if (pruned.some((p) => p !== undefined)) layer.setWeights(pruned.map((p, i) => p ?? weights[i]));
        tf.dispose(pruned.filter((p) => p !== undefined));
      }
    } catch (error) {
      copy.dispose();
      throw error;
    }
    if (zeroed === 0) {
      copy.dispose();
      context.note(`no kernel weight is below ${threshold} in magnitude`);
      return target;
    }
    context.metric('zeroedWeights', zeroed);
    context.metric('sparsity', round(zeroed / total));
    if (context.table) context.table('layers', rows);
    context.note(
      `zeroed ${zeroed} of ${total} kernel weights (|w| < ${threshold}); kernels with under half their weights left ship sparse`,
    );
    return new PrunedModel(copy, target.backend, bytes, `${target.description}, pruned below ${threshold}`);
  }
}

function countNonZero(t) {
  return tf.tidy(() => tf.sum(tf.cast(tf.notEqual(t, 0), 'int32')).dataSync()[0]);
}

function round(x) {
  return Number(x.toPrecision(4));
}

// Registers the plugin with Kiln when kiln.yaml's `plugins:` imports this package.
kiln.Plugin({
  name: 'prune-small-weights',
  kind: 'pruning',
  objective: 'size',
  description: 'zero kernel weights below a magnitude threshold and ship kernels sparse',
  optionsClass: PruneOptions,
})(PruneSmallWeights);

module.exports = { PruneSmallWeights, PruneOptions, PrunedModel };
