import type * as tf from '@tensorflow/tfjs';
import { DelegatingKilnModel } from '../delegating-kiln-model.js';
import { runsSynchronously, type KilnModel } from '../kiln-model.js';

/** One model of a shape profile: what the pipeline kept at one batch size. */
export interface ShapeVariant {
  /** The batch size it was optimised, validated and benchmarked at. */
  readonly batch: number;
  readonly model: KilnModel;
}

/**
 * How a call is routed, in words, for the report: each call runs the variant of its
 * batch size; another batch size runs the variant of the nearest profile batch.
 */
export const DISPATCH_RULE =
  "each call runs the model Kiln kept at the call's batch size (axis 0 of the first input); a batch size outside the profile runs the one kept at the nearest profile batch by ratio (|log(batch / profile batch)|, the larger on a tie), which handles any batch (a compiled graph compiles, and checks, the new signature on its first call)";

/**
 * The optimised model of a shape profile (config `shapes:`, `--batch 1,16,32`): one
 * variant per profile batch size, each the result of its own pipeline run, and a
 * dispatch on the batch size of every call (see {@link DISPATCH_RULE}). What a single
 * model would answer (its stock model, its files) is the first variant's: the one kept
 * at the profile's first (smallest) batch.
 */
export class ShapeDispatchModel extends DelegatingKilnModel {
  private readonly variants: readonly ShapeVariant[];

  constructor(variants: readonly ShapeVariant[]) {
    if (variants.length === 0) throw new Error('a shape profile needs at least one variant');
    const sorted = [...variants].sort((a, b) => a.batch - b.batch);
    // what a single model would answer (stock model, files, inputs, variables) is the first variant's
    super(sorted[0]!.model);
    this.variants = sorted;
  }

  /** The variant a call of `batch` rows runs. */
  variantFor(batch: number): ShapeVariant {
    let best = this.variants[0]!;
    let bestDistance = Infinity;
    for (const v of this.variants) {
      const distance = Math.abs(Math.log(batch / v.batch));
      // ascending order: on a tie the later (larger) batch wins
      if (distance <= bestDistance) {
        best = v;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** The profile's batch sizes, smallest first. */
  get batches(): number[] {
    return this.variants.map((v) => v.batch);
  }

  override get description(): string {
    return `per batch size: ${this.variants.map((v) => `${v.batch} -> ${v.model.description}`).join('; ')}`;
  }

  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return this.variantOfCall(inputs).predict(inputs);
  }

  /** false where any variant runs only asynchronously (see KilnModel.predictAsync): then `predictAsync` runs every batch size, and `predict` throws for that variant's. */
  override get synchronous(): boolean {
    return this.variants.every((v) => runsSynchronously(v.model));
  }

  /** `predict`, through the chosen variant's `predictAsync` where it runs only asynchronously. */
  override async predictAsync(inputs: tf.Tensor | tf.Tensor[]): Promise<tf.Tensor | tf.Tensor[]> {
    const model = this.variantOfCall(inputs);
    return runsSynchronously(model) || !model.predictAsync ? model.predict(inputs) : model.predictAsync(inputs);
  }

  dispose(): void {
    for (const v of this.variants) v.model.dispose();
  }

  /** The model of the variant for the batch size (axis 0 of the first input) of a call. */
  private variantOfCall(inputs: tf.Tensor | tf.Tensor[]): KilnModel {
    const first = Array.isArray(inputs) ? inputs[0] : inputs;
    return this.variantFor(first?.shape[0] ?? 1).model;
  }
}
