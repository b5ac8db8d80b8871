import * as tf from '@tensorflow/tfjs';
import { activateBackend, isTfjsBackend } from '../../core/backend-scope.js';
import { DelegatingKilnModel } from '../../core/delegating-kiln-model.js';
import { GraphFunction, type GraphFunctionStats } from '../graph-function.js';
import type { KilnModel } from '../../core/kiln-model.js';
import { LayersKilnModel } from '../../formats/layers-model/layers-model-format.js';
import { graphFunctionSettings, sampleList, type CompileOptions } from './compile-options.js';

/**
 * A model whose `predict` replays compiled kernel graphs of what it wraps (a
 * LayersModel, or any KilnModel such as a LayersModel on a chosen backend). Same
 * contract as `LayersModel.predict`. Traces `predict` itself: a batch larger than
 * the LayersModel's batchSize (32) is traced as the slices and concat predict runs.
 *
 * Its backend is the wrapped model's: a KilnModel pinned to a backend (what Kiln's
 * backend selection hands on) makes that backend active on each call, as KilnModels
 * do; `compile(model)` wraps the user's LayersModel in an {@link ActiveBackendModel},
 * which follows the active tf.js backend instead, as `model.predict` does. Either way
 * the backend is part of every plan's guard (see `signatureOf`): a call on another
 * backend compiles a plan of its own.
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

/**
 * The user's LayersModel run by its own `predict` on whatever tf.js backend is active at
 * each call, as `model.predict` runs: what `compile(model)` compiles. Its `backend` is
 * the active one, so wrapping it never switches the global backend, and a
 * `tf.setBackend` between calls is a guard miss (a plan for the new backend), never a
 * silent switch back.
 */
export class ActiveBackendModel extends DelegatingKilnModel {
  constructor(private readonly model: tf.LayersModel) {
    super(new LayersKilnModel(model, tf.getBackend(), false, 'LayersModel.predict on the active backend'));
  }

  override get backend(): string {
    return tf.getBackend();
  }

  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return this.model.predict(inputs);
  }

  /** The LayersModel is the user's: nothing to free. */
  dispose(): void {}
}
