import type * as tf from '@tensorflow/tfjs';
import { DelegatingKilnModel } from '../../core/delegating-kiln-model.js';
import type { KilnModel } from '../../core/kiln-model.js';
import type { ValidationBudget } from '../../core/validation/budget.js';

/**
 * A model loaded by tf.js itself (its format's stock loader) from quantised model
 * files: its weights are what tf.js dequantised at load (float32 on every backend), so
 * it computes exactly what a user who loads `artifacts` gets. It owns `loaded`.
 */
export class QuantizedKilnModel extends DelegatingKilnModel {
  constructor(
    /** The stock model loaded from `files`, as its format runs it (owned). */
    loaded: KilnModel,
    private readonly files: tf.io.ModelArtifacts,
    private readonly weightBytes: number,
    private readonly budget: ValidationBudget,
    private readonly what: string,
  ) {
    super(loaded);
  }

  /** The model files it was loaded from: model.json contents plus the quantised weight bytes. */
  override get artifacts(): tf.io.ModelArtifacts {
    return this.files;
  }
  /** Bytes of the stored (quantised) weights. */
  override get artifactBytes(): number {
    return this.weightBytes;
  }
  /** The budget it was chosen under; the pipeline validates it with this. */
  override get validationBudget(): ValidationBudget {
    return this.budget;
  }
  override get description(): string {
    return this.what;
  }

  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return this.inner.predict(inputs);
  }

  dispose(): void {
    this.inner.dispose();
  }
}
