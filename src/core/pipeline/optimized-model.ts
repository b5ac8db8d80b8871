import type * as tf from '@tensorflow/tfjs';
import type { KilnModel, TensorSpec } from '../kiln-model.js';

/**
 * What `optimize()` returns as `model`: a drop-in for `LayersModel.predict`, running
 * whatever the pipeline kept. It owns the models the pipeline kept (each may build
 * on the one before), and `dispose()` frees them; the user's model is never freed.
 */
export class OptimizedModel implements KilnModel {
  private disposed = false;

  constructor(
    private readonly final: KilnModel,
    private readonly chain: readonly KilnModel[],
    /** The backend whose kernels computed the outputs when Kiln checked it. */
    readonly backend: string,
  ) {}

  get description(): string {
    return this.final.description;
  }
  get inputs(): readonly TensorSpec[] {
    return this.final.inputs;
  }
  get outputNames(): readonly string[] {
    return this.final.outputNames;
  }
  get layersModel(): tf.LayersModel | undefined {
    return this.final.layersModel;
  }
  get artifactBytes(): number | undefined {
    return this.final.artifactBytes;
  }
  /**
   * The model files of the weights it runs, where a kept plugin changed how they are
   * stored (e.g. quantised): the final model's, or those of the kept model whose
   * LayersModel the final one still runs (a later plugin may wrap it).
   */
  get artifacts(): tf.io.ModelArtifacts | undefined {
    if (this.final.artifacts) return this.final.artifacts;
    const layers = this.final.layersModel;
    return layers ? [...this.chain].reverse().find((m) => m.artifacts && m.layersModel === layers)?.artifacts : undefined;
  }

  /** Same contract as `tf.LayersModel.predict`: the caller owns the returned tensors. */
  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    if (this.disposed) throw new Error('This optimised model has been disposed.');
    return this.final.predict(inputs);
  }

  trainableVariables(): tf.Variable[] {
    return this.final.trainableVariables();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const model of [...this.chain].reverse()) model.dispose();
  }
}
