import type * as tf from '@tensorflow/tfjs';
import { LayersKilnModel } from '../../formats/layers-model/layers-model-format.js';
import type { ValidationBudget } from '../../core/validation/budget.js';

/**
 * A LayersModel loaded by tf.js itself from quantised model files: its weights are
 * what tf.js dequantised at load (float32 on every backend), so it computes exactly
 * what a user who loads `artifacts` gets. It owns the LayersModel.
 */
export class QuantizedKilnModel extends LayersKilnModel {
  constructor(
    layersModel: tf.LayersModel,
    backend: string,
    /** The model files it was loaded from: model.json contents plus the quantised weight bytes. */
    readonly artifacts: tf.io.ModelArtifacts,
    /** Bytes of the stored (quantised) weights. */
    readonly artifactBytes: number,
    /** The budget it was chosen under; the pipeline validates it with this. */
    readonly validationBudget: ValidationBudget,
    description: string,
  ) {
    super(layersModel, backend, true, description);
  }
}
