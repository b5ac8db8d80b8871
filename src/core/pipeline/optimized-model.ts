import type * as tf from '@tensorflow/tfjs';
import { DelegatingKilnModel } from '../delegating-kiln-model.js';
import type { KilnModel } from '../kiln-model.js';
import type { SourceWeightsGuard } from './source-weights-guard.js';

/**
 * What `optimize()` returns as `model`: a drop-in for `LayersModel.predict`, running
 * whatever the pipeline kept. It owns the models the pipeline kept (each may build
 * on the one before), and `dispose()` frees them; the user's model is never freed.
 */
export class OptimizedModel extends DelegatingKilnModel {
  private disposed = false;

  constructor(
    final: KilnModel,
    private readonly chain: readonly KilnModel[],
    /** The backend whose kernels computed the outputs when Kiln checked it. */
    private readonly backendThatRan: string,
    /**
     * Watches the user's weights when the final model runs a copy of them (another
     * backend, a layer rewrite, quantised weights): `predict` then refuses to answer
     * once they change. Absent when the final model computes from the user's own variables.
     */
    private readonly sourceGuard?: SourceWeightsGuard,
  ) {
    super(final);
  }

  override get backend(): string {
    return this.backendThatRan;
  }

  /**
   * The model files of the weights it runs, where a kept plugin changed how they are
   * stored (e.g. quantised): the final model's, or those of the kept model whose
   * stock model the final one still runs (a later plugin may wrap it).
   */
  override get artifacts(): tf.io.ModelArtifacts | undefined {
    if (this.inner.artifacts) return this.inner.artifacts;
    const stock = this.inner.stock?.model;
    return stock ? [...this.chain].reverse().find((m) => m.artifacts && m.stock?.model === stock)?.artifacts : undefined;
  }

  /** Same contract as `tf.LayersModel.predict`: the caller owns the returned tensors. */
  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    if (this.disposed) throw new Error('This optimised model has been disposed.');
    this.sourceGuard?.check();
    return this.inner.predict(inputs);
  }

  /** Same contract, for a final model whose engine answers only asynchronously (see KilnModel.predictAsync); `predict` of any other. */
  override async predictAsync(inputs: tf.Tensor | tf.Tensor[]): Promise<tf.Tensor | tf.Tensor[]> {
    if (this.disposed) throw new Error('This optimised model has been disposed.');
    this.sourceGuard?.check();
    return super.predictAsync(inputs);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const model of [...this.chain].reverse()) model.dispose();
  }
}
