import type * as tf from '@tensorflow/tfjs';
import type { StockModel } from './formats/model-format.js';
import { runsSynchronously, type KilnModel, type TensorSpec } from './kiln-model.js';
import type { ValidationBudget } from './validation/budget.js';

/**
 * A KilnModel that wraps another and answers everything but how it runs from it: the
 * shared base of models that change how a call runs (a compiled graph) or who owns what
 * (the optimised model), not what the model is. Subclasses implement `predict` and
 * `dispose`, and override what they answer differently.
 */
export abstract class DelegatingKilnModel implements KilnModel {
  protected constructor(protected readonly inner: KilnModel) {}

  get backend(): string {
    return this.inner.backend;
  }
  get description(): string {
    return this.inner.description;
  }
  get inputs(): readonly TensorSpec[] {
    return this.inner.inputs;
  }
  get outputNames(): readonly string[] {
    return this.inner.outputNames;
  }
  get stock(): StockModel | undefined {
    return this.inner.stock;
  }
  get madeFrom(): StockModel | undefined {
    return this.inner.madeFrom;
  }
  get layersModel(): tf.LayersModel | undefined {
    return this.inner.layersModel;
  }
  get artifactBytes(): number | undefined {
    return this.inner.artifactBytes;
  }
  get artifacts(): tf.io.ModelArtifacts | undefined {
    return this.inner.artifacts;
  }
  get onnx(): Uint8Array | undefined {
    return this.inner.onnx;
  }
  get validationBudget(): ValidationBudget | undefined {
    return this.inner.validationBudget;
  }

  get synchronous(): boolean | undefined {
    return this.inner.synchronous;
  }

  trainableVariables(): tf.Variable[] {
    return this.inner.trainableVariables();
  }

  /** This model's own `predict`, unless the inner model runs only asynchronously: then the inner model's `predictAsync`. */
  async predictAsync(inputs: tf.Tensor | tf.Tensor[]): Promise<tf.Tensor | tf.Tensor[]> {
    return runsSynchronously(this.inner) || !this.inner.predictAsync ? this.predict(inputs) : this.inner.predictAsync(inputs);
  }

  abstract predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[];
  abstract dispose(): void;
}
