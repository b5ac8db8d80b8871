import type * as tf from '@tensorflow/tfjs';
import type { StockModel } from '../formats/model-format.js';
import { runsSynchronously, type KilnModel, type TensorSpec } from '../kiln-model.js';
import type { ValidationBudget } from '../validation/budget.js';

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
export class ShapeDispatchModel implements KilnModel {
  private readonly variants: readonly ShapeVariant[];

  constructor(variants: readonly ShapeVariant[]) {
    if (variants.length === 0) throw new Error('a shape profile needs at least one variant');
    this.variants = [...variants].sort((a, b) => a.batch - b.batch);
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

  private get first(): KilnModel {
    return this.variants[0]!.model;
  }

  get backend(): string {
    return this.first.backend;
  }
  get description(): string {
    return `per batch size: ${this.variants.map((v) => `${v.batch} -> ${v.model.description}`).join('; ')}`;
  }
  get inputs(): readonly TensorSpec[] {
    return this.first.inputs;
  }
  get outputNames(): readonly string[] {
    return this.first.outputNames;
  }
  get stock(): StockModel | undefined {
    return this.first.stock;
  }
  get layersModel(): tf.LayersModel | undefined {
    return this.first.layersModel;
  }
  get artifactBytes(): number | undefined {
    return this.first.artifactBytes;
  }
  get artifacts(): tf.io.ModelArtifacts | undefined {
    return this.first.artifacts;
  }
  get validationBudget(): ValidationBudget | undefined {
    return this.first.validationBudget;
  }

  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const first = Array.isArray(inputs) ? inputs[0] : inputs;
    const batch = first?.shape[0] ?? 1;
    return this.variantFor(batch).model.predict(inputs);
  }

  /** false where any variant runs only asynchronously (onnxruntime): then `predictAsync` runs every batch size, and `predict` throws for that variant's. */
  get synchronous(): boolean {
    return this.variants.every((v) => runsSynchronously(v.model));
  }

  /** `predict`, through the chosen variant's `predictAsync` where it runs only asynchronously. */
  async predictAsync(inputs: tf.Tensor | tf.Tensor[]): Promise<tf.Tensor | tf.Tensor[]> {
    const first = Array.isArray(inputs) ? inputs[0] : inputs;
    const model = this.variantFor(first?.shape[0] ?? 1).model;
    return runsSynchronously(model) || !model.predictAsync ? model.predict(inputs) : model.predictAsync(inputs);
  }

  /** The first variant's: training code gets one set of variables (each variant holds its own copy). */
  trainableVariables(): tf.Variable[] {
    return this.first.trainableVariables();
  }

  dispose(): void {
    for (const v of this.variants) v.model.dispose();
  }
}
