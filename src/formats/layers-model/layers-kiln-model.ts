import * as tf from '@tensorflow/tfjs';
import { activateBackend } from '../../core/backend-scope.js';
import { disposeLayersModel } from './dispose-layers-model.js';
import type { KilnModel, TensorSpec } from '../../core/kiln-model.js';

/**
 * A `tf.LayersModel` run by its own `predict` on one backend. `owned` says whether
 * `dispose` frees the LayersModel (true for copies Kiln made, never for the user's).
 */
export class LayersKilnModel implements KilnModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputNames: readonly string[];
  readonly description: string;
  private disposed = false;

  constructor(
    readonly layersModel: tf.LayersModel,
    readonly backend: string,
    private readonly owned: boolean,
    description?: string,
  ) {
    this.inputs = layersModel.inputs.map((input, i) => ({
      name: layersModel.inputNames[i] ?? input.name,
      shape: input.shape,
      dtype: input.dtype,
    }));
    this.outputNames = [...layersModel.outputNames];
    this.description = description ?? `LayersModel.predict on ${backend}`;
  }

  /**
   * Makes this model's backend the active tf.js backend when it is not (and leaves it
   * so: switching costs about 0.4 ms, more than a small model's whole call), then
   * calls the LayersModel's predict.
   */
  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    activateBackend(this.backend);
    return this.layersModel.predict(inputs);
  }

  trainableVariables(): tf.Variable[] {
    return this.layersModel.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  dispose(): void {
    if (this.disposed || !this.owned) return;
    this.disposed = true;
    disposeLayersModel(this.layersModel);
  }
}
