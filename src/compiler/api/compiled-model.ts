import * as tf from '@tensorflow/tfjs';
import { activateBackend, isTfjsBackend } from '../../core/backend-scope.js';
import { DelegatingKilnModel } from '../../core/delegating-kiln-model.js';
import { GraphFunction, type GraphFunctionStats } from '../graph-function.js';
import type { KilnModel } from '../../core/kiln-model.js';
import { graphFunctionSettings, sampleList, type CompileOptions } from './compile-options.js';

/**
 * A model whose `predict` replays compiled kernel graphs of what it wraps (a
 * LayersModel, or any KilnModel such as a LayersModel on a chosen backend). Same
 * contract as `LayersModel.predict`. Traces `predict` itself: a batch larger than
 * the LayersModel's batchSize (32) is traced as the slices and concat predict runs.
 */
export class CompiledModel extends DelegatingKilnModel {
  private readonly label: string;
  private readonly fn: GraphFunction;

  constructor(inner: KilnModel, options: CompileOptions = {}) {
    super(inner);
    if (!isTfjsBackend(inner.backend)) {
      throw new Error(
        `cannot compile "${inner.description}": it runs on ${inner.backend}, not on a tf.js backend, so there are no tf.js kernels to trace`,
      );
    }
    this.label = `compiled kernel graph of ${inner.description}`;
    this.fn = new GraphFunction(
      (...xs) => inner.predict(xs.length === 1 ? xs[0]! : xs),
      graphFunctionSettings(options, inner.layersModel?.name ?? 'model', inner.layersModel?.layers),
    );
    const samples = sampleList(options.sampleInputs);
    if (samples) tf.dispose(this.predict(samples.length === 1 ? samples[0]! : samples));
  }

  override get description(): string {
    return this.label;
  }

  /** The model this one compiles (not owned unless handed over with `withOwned`). */
  get source(): KilnModel {
    return this.inner;
  }

  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    activateBackend(this.inner.backend);
    return this.fn.call(Array.isArray(inputs) ? inputs : [inputs]);
  }

  stats(): GraphFunctionStats {
    return this.fn.stats();
  }

  private owned: KilnModel | undefined;

  /** Makes this model own `inner` too (dispose frees it): for plugins that build the model they compile. */
  withOwned(inner: KilnModel | undefined): this {
    this.owned = inner;
    return this;
  }

  /** Frees the compiled graphs, and the wrapped model when it was handed over with `withOwned`. */
  dispose(): void {
    this.fn.dispose();
    this.owned?.dispose();
    this.owned = undefined;
  }
}
