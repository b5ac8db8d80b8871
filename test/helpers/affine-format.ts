import * as tf from '@tensorflow/tfjs';
import { withBackend } from '../../src/core/backend-scope.js';
import type { ModelFormat, StockModel } from '../../src/core/formats/model-format.js';
import type { KilnModel, TensorSpec } from '../../src/core/kiln-model.js';

/**
 * A third model format, written as docs/architecture.md's "Add a format" walks through
 * it: `y = x · w + b`, a plain object with two tensors, saved as a model.json with
 * `format: "affine-model"`. Kiln's format-independent code must run it with nothing
 * but this adapter.
 */
export interface AffineModel {
  readonly kind: 'affine-model';
  readonly w: tf.Tensor2D;
  readonly b: tf.Tensor1D;
}

export function affineModel(inputs: number, outputs: number, seed = 1): AffineModel {
  return {
    kind: 'affine-model',
    w: tf.randomNormal([inputs, outputs], 0, 1, 'float32', seed) as tf.Tensor2D,
    b: tf.randomNormal([outputs], 0, 1, 'float32', seed + 1) as tf.Tensor1D,
  };
}

export const affineFormat: ModelFormat<AffineModel> = {
  name: 'affine-model',
  displayName: 'affine model',
  owns: (model): model is AffineModel => (model as { kind?: unknown } | null)?.kind === 'affine-model',
  recognises: (json) => json.format === 'affine-model',
  async load(artifacts) {
    const weights = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
    return { kind: 'affine-model', w: weights.w as tf.Tensor2D, b: weights.b as tf.Tensor1D };
  },
  async save(model) {
    const { data, specs } = await tf.io.encodeWeights({ w: model.w, b: model.b });
    return { format: 'affine-model', modelTopology: { kind: 'affine-model' }, weightSpecs: specs, weightData: data };
  },
  weights: (model) => [
    { name: 'w', value: model.w },
    { name: 'b', value: model.b },
  ],
  copyTo: async (model, backend) => withBackend(backend, () => ({ kind: 'affine-model', w: tf.clone(model.w), b: tf.clone(model.b) })),
  wrap: (model, backend, owned, description) => new AffineKilnModel(model, backend, owned, description),
  dispose: (model) => tf.dispose([model.w, model.b]),
};

export class AffineKilnModel implements KilnModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputNames = ['y'];
  readonly description: string;
  readonly stock: StockModel<AffineModel>;

  constructor(
    readonly model: AffineModel,
    readonly backend: string,
    private readonly owned: boolean,
    description?: string,
  ) {
    this.inputs = [{ name: 'x', shape: [null, model.w.shape[0]], dtype: 'float32' }];
    this.description = description ?? `affine predict on ${backend}`;
    this.stock = { format: affineFormat, model };
  }

  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return withBackend(this.backend, () => tf.tidy(() => tf.add(tf.matMul(x, this.model.w), this.model.b)));
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  dispose(): void {
    if (this.owned) affineFormat.dispose(this.model);
  }
}
