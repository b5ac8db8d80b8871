import { EngineManager } from '../../core/engines/engine-manager.js';
import type { ExecutionEngine } from '../../core/engines/execution-engine.js';
import type { KilnModel } from '../../core/kiln-model.js';
import type { Availability, OptimizationPlugin, PluginContext } from '../../core/plugin.js';

/**
 * Runs the model on one execution engine (a tf.js backend): the engine makes its own
 * copy (for tf.js backends, the model's weights copied through its format), so the
 * user's model stays where it was. The pipeline then validates the copy against the
 * cpu reference and keeps it only if faster. The `backend` slot tries one of these
 * per name in `backend.preference`; `defineBackendPlugin` makes one for an engine.
 */
export abstract class BackendPlugin implements OptimizationPlugin {
  protected abstract readonly engine: ExecutionEngine;

  constructor(protected readonly engines: EngineManager) {}

  isAvailable(): Promise<Availability> {
    return this.engines.ensure(this.engine);
  }

  async apply(target: KilnModel, context: PluginContext): Promise<KilnModel> {
    const runsOn = this.engine.tfjsBackend ?? this.engine.name;
    if (target.backend === runsOn) {
      context.note(`the model already runs on ${runsOn}`);
      return target;
    }
    if (!target.stock) {
      throw new Error(
        `backend selection needs the stock model (e.g. a LayersModel); got "${target.description}". Put the backend slot first in the pipeline.`,
      );
    }
    return this.engine.prepare(target);
  }
}
