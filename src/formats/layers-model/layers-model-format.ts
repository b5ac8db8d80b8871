import * as tf from '@tensorflow/tfjs';
import { activateBackend } from '../../core/backend-scope.js';
import type { ModelFormat, ModelWeight, StockModel } from '../../core/formats/model-format.js';
import type { KilnModel, TensorSpec } from '../../core/kiln-model.js';
import { cloneLayersModel } from './clone-layers-model.js';
import { disposeLayersModel } from './dispose-layers-model.js';
import { rememberSourceArtifacts } from '../../core/formats/source-artifacts.js';
import { saveLayersModelKeepingStorage } from './save-layers-model.js';

/**
 * The tfjs-layers format (`tf.LayersModel`, model.json with `format: "layers-model"`
 * or a Keras `model_config`): how Kiln recognises, loads, copies, weighs, saves and
 * runs one. Custom layers must be registered with `tf.serialization.registerClass`,
 * as for tf.js itself. A model it loads from files that store weights quantised
 * (float16, uint8, uint16) saves those weights as they were stored, as long as their
 * values are unchanged (tf.js alone would write them as float32).
 */
export const layersModelFormat: ModelFormat<tf.LayersModel> = {
  name: 'layers-model',
  displayName: 'tf.LayersModel',
  owns: (model): model is tf.LayersModel => model instanceof tf.LayersModel,
  recognises: (json) => json.format === 'layers-model' || isKerasTopology(json.modelTopology),
  load: async (artifacts) => rememberSourceArtifacts(await tf.loadLayersModel(tf.io.fromMemory(artifacts)), artifacts),
  save: saveLayersModelKeepingStorage,
  weights: (model) =>
    model.weights.map((w): ModelWeight => {
      const variable = w.read() as tf.Variable;
      return { name: w.originalName ?? w.name, value: variable, assign: (values) => variable.assign(values) };
    }),
  copyTo: cloneLayersModel,
  overwriteWeight: (model, name, values) => {
    const weight = model.weights.find((w) => (w.originalName ?? w.name) === name);
    if (!weight) throw new Error(`weight "${name}" is not a weight of LayersModel "${model.name}"`);
    weight.write(values);
  },
  wrap: (model, backend, owned, description) => new LayersKilnModel(model, backend, owned, description),
  dispose: disposeLayersModel,
};

function isKerasTopology(topology: unknown): boolean {
  const t = topology as { model_config?: unknown; class_name?: unknown } | null | undefined;
  return t != null && typeof t === 'object' && (t.model_config != null || typeof t.class_name === 'string');
}

/**
 * A `tf.LayersModel` run by its own `predict` on one backend. `owned` says whether
 * `dispose` frees the LayersModel (true for copies Kiln made, never for the user's).
 */
export class LayersKilnModel implements KilnModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputNames: readonly string[];
  readonly description: string;
  readonly stock: StockModel<tf.LayersModel>;
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
    this.stock = { format: layersModelFormat, model: layersModel };
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
