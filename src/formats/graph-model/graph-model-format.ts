import * as tf from '@tensorflow/tfjs';
import { activateBackend, withBackendAsync } from '../../core/backend-scope.js';
import { InputError } from '../../core/errors.js';
import type { ModelFormat, ModelWeight, StockModel } from '../../core/formats/model-format.js';
import type { KilnModel, TensorSpec } from '../../core/kiln-model.js';
import { saveGraphModelArtifacts } from './graph-model-artifacts.js';
import { overwriteGraphWeight } from './overwrite-graph-weight.js';

/**
 * The tfjs-converter format (`tf.GraphModel`, model.json with `format: "graph-model"`
 * or a GraphDef `modelTopology` with `node`): what TF SavedModels, TF Hub and Keras
 * models converted by `tensorflowjs_converter` become. Graph models are inference-only
 * (their weights are constants, not variables) and run by `GraphModel.execute`.
 */
export const graphModelFormat: ModelFormat<tf.GraphModel> = {
  name: 'graph-model',
  displayName: 'tf.GraphModel',
  owns: (model): model is tf.GraphModel => model instanceof tf.GraphModel,
  recognises: (json) => json.format === 'graph-model' || isGraphDef(json.modelTopology),
  load: (artifacts) => tf.loadGraphModel(tf.io.fromMemory(artifacts)),
  save: saveGraphModelArtifacts,
  weights: (model) =>
    Object.entries(model.weights).flatMap(([name, tensors]) =>
      tensors.map((value, k): ModelWeight => ({ name: tensors.length > 1 ? `${name}:${k}` : name, value })),
    ),
  copyTo: async (model, backend) => {
    const artifacts = await saveGraphModelArtifacts(model);
    return withBackendAsync(backend, () => tf.loadGraphModel(tf.io.fromMemory(artifacts)));
  },
  overwriteWeight: overwriteGraphWeight,
  wrap: (model, backend, owned, description) => new GraphKilnModel(model, backend, owned, description),
  dispose: (model) => model.dispose(),
};

function isGraphDef(topology: unknown): boolean {
  const t = topology as { node?: unknown } | null | undefined;
  return t != null && typeof t === 'object' && Array.isArray(t.node);
}

/** The message tfjs-converter throws when `execute` meets control flow or a dynamic op. */
const NEEDS_ASYNC = /which has the dynamic op '([^']+)'/;

/**
 * A `tf.GraphModel` run by its own `execute` on one backend (what `predict` runs,
 * without the signature's output renaming: outputs come as one tensor or an array in
 * the model's output order). `owned` says whether `dispose` frees the GraphModel.
 */
export class GraphKilnModel implements KilnModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputNames: readonly string[];
  readonly description: string;
  readonly stock: StockModel<tf.GraphModel>;
  private disposed = false;

  constructor(
    readonly graphModel: tf.GraphModel,
    readonly backend: string,
    private readonly owned: boolean,
    description?: string,
  ) {
    this.inputs = graphModel.inputs.map((input) => {
      if (input.shape === undefined) {
        throw new InputError(
          `Graph model input "${input.name}" has no shape in the model's signature, so Kiln cannot build or check inputs for it. ` +
            'Re-convert the model with a signature that gives every input a shape (-1 for free dimensions).',
        );
      }
      return { name: input.name, shape: input.shape.map((d) => (d < 0 ? null : d)), dtype: input.dtype };
    });
    this.outputNames = graphModel.outputs.map((output) => output.name);
    this.description = description ?? `GraphModel.execute on ${backend}`;
    this.stock = { format: graphModelFormat, model: graphModel };
  }

  /** Makes this model's backend the active one when it is not (and leaves it so), then runs `execute`. */
  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    activateBackend(this.backend);
    try {
      return this.graphModel.execute(inputs);
    } catch (error) {
      const dynamic = NEEDS_ASYNC.exec(error instanceof Error ? error.message : '');
      if (dynamic) {
        throw new InputError(
          `This graph model has the dynamic op ${dynamic[1]} (control flow or a data-dependent shape), which tf.js only runs with executeAsync; ` +
            'Kiln runs and validates models synchronously and cannot optimise it. Export the model without the dynamic part (e.g. without non-max suppression), or run it with tf.js directly.',
        );
      }
      throw error;
    }
  }

  /** None: a graph model's weights are constants. */
  trainableVariables(): tf.Variable[] {
    return [];
  }

  dispose(): void {
    if (this.disposed || !this.owned) return;
    this.disposed = true;
    this.graphModel.dispose();
  }
}
