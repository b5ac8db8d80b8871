import type * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { KilnConfig } from './config/kiln-config.js';
import { loadConfig } from './core/config-loading/load-config.js';
import type { Logger } from './core/logger.js';
import { Pipeline, type OptimizationResult, type PipelineObserver } from './core/pipeline/pipeline.js';
import { createRunContainer } from './core/run-container.js';
import type { LossFunction } from './core/validation/validator.js';
import './formats/index.js';
import './engines/index.js';
import './plugins/index.js';

export interface OptimizeOptions {
  /**
   * One tensor per model input (batch of any size). Absent: seeded generated inputs, of
   * the shapes and value ranges the config's `inputs:` gives (else the model's shapes,
   * a free batch axis at 1). Kiln does not dispose them.
   */
  readonly sampleInputs?: tf.Tensor | readonly tf.Tensor[];
  /**
   * Instead of `sampleInputs`: makes the sample inputs at a batch size, that of each
   * `shapes:` entry (undefined without `shapes:`); Kiln disposes what it returns. With
   * `sampleInputs` and `shapes:`, the given rows are repeated (or cut) to each batch size.
   */
  readonly samplesAt?: (batch: number | undefined) => tf.Tensor[];
  /** A loaded `KilnConfig`, a config object as in kiln.yaml, or the path of a kiln.yaml. Defaults otherwise. */
  readonly config?: KilnConfig | string | object;
  /** Parent container for this run (to swap services or add plugins without touching the root). */
  readonly container?: DependencyContainer;
  readonly logger?: Logger;
  readonly observer?: PipelineObserver;
  /** Training mode: the loss whose gradients are compared (default: a seeded weighted sum of the outputs). */
  readonly loss?: LossFunction;
}

/**
 * Optimises a model of any registered format (a `tf.LayersModel` or a `tf.GraphModel` with the built-in
 * formats; anything else is an InputError naming the formats Kiln takes): runs the pipeline (backend selection, then the configured
 * or default plugins), keeping only what validates against the original and is
 * faster (or smaller). Returns a model whose `predict` works like the original's,
 * and the report of every decision. The user's model is never modified.
 *
 * ```ts
 * const { model: fast, report } = await optimize(model, { sampleInputs: [x] });
 * const y = fast.predict(x);
 * ```
 */
export async function optimize(model: tf.LayersModel | tf.GraphModel | object, options: OptimizeOptions = {}): Promise<OptimizationResult> {
  const config =
    options.config instanceof KilnConfig
      ? options.config
      : await loadConfig(options.config as string | object | undefined, { container: options.container });
  const run = createRunContainer(config, { parent: options.container, logger: options.logger });
  const samples =
    options.sampleInputs === undefined
      ? undefined
      : Array.isArray(options.sampleInputs)
        ? options.sampleInputs
        : [options.sampleInputs as tf.Tensor];
  return run
    .resolve(Pipeline)
    .run(model, { sampleInputs: samples, samplesAt: options.samplesAt, observer: options.observer, loss: options.loss });
}
