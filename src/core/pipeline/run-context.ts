import type * as tf from '@tensorflow/tfjs';
import type { BenchmarkSettings } from '../benchmark/benchmarker.js';
import type { StockModel } from '../formats/model-format.js';
import type { KilnMode } from '../plugin.js';
import type { ValidationBudget } from '../validation/budget.js';
import type { ValidationSession } from '../validation/validator.js';

/** What every candidate of one pipeline run is judged against. */
export interface RunContext {
  readonly mode: KilnMode;
  /** The tf.js backend active when the run started: Kiln puts tf.js back on it around every plugin call. */
  readonly homeBackend: string;
  /** The user's model, whose weights are guarded. */
  readonly userModel: StockModel;
  readonly sampleInputs: readonly tf.Tensor[];
  readonly validation: ValidationSession;
  readonly benchmark: BenchmarkSettings;
  readonly minSpeedup: number;
  readonly minSizeGain: number;
  /** The accuracy budget in force: set by a kept model's `validationBudget`, it holds for every later candidate. */
  readonly budget?: ValidationBudget;
  /** Called between benchmark rounds, for progress displays. */
  readonly onProgress?: (label: string, done: number, total: number) => void;
}
