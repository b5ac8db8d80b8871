import type * as tf from '@tensorflow/tfjs';
import { KilnError } from '../errors.js';
import type { StockModel } from '../formats/model-format.js';

/**
 * Notices that the model `optimize()` was given changed its weights afterwards. tf.js
 * gives a tensor new data by pointing it at a new data id (`Variable.assign`, which
 * `setWeights` and every optimizer step use), so a weight whose data id moved has
 * changed. Reading it costs one identity comparison per weight: cheap enough for every
 * call of the optimised model.
 */
export class SourceWeightsGuard {
  private readonly watched: readonly { readonly name: string; readonly value: tf.Tensor; readonly dataId: object }[];

  constructor(
    source: StockModel,
    /** What the optimised model runs instead of the source's weights, for the message. */
    private readonly runs: string,
  ) {
    this.watched = source.format.weights(source.model).map((w) => ({ name: w.name, value: w.value, dataId: w.value.dataId }));
  }

  /** Throws SOURCE_CHANGED, naming the weights, when any weight of the source (not disposed) holds new data. */
  check(): void {
    if (!this.watched.some((w) => w.value.dataId !== w.dataId && !w.value.isDisposed)) return;
    const changed = this.watched.filter((w) => !w.value.isDisposed && w.value.dataId !== w.dataId).map((w) => w.name);
    const names = `${changed.slice(0, 3).join(', ')}${changed.length > 3 ? `, and ${changed.length - 3} more` : ''}`;
    throw new KilnError(
      'SOURCE_CHANGED',
      `The model optimize() was given has changed its weights since (${names}): this optimised model runs a copy made from the old ` +
        `weights (${this.runs}), so it would answer with stale values. Run optimize() again on the changed model; to train through ` +
        "Kiln, train the optimised model's trainableVariables() instead.",
    );
  }
}
