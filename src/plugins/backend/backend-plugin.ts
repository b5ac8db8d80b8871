import { BackendManager, type BackendDescriptor } from '../../core/backend-manager.js';
import { cloneLayersModel } from '../../formats/layers-model/clone-layers-model.js';
import type { KilnModel } from '../../core/kiln-model.js';
import { LayersKilnModel } from '../../formats/layers-model/layers-kiln-model.js';
import type { Availability, OptimizationPlugin, PluginContext } from '../../core/plugin.js';

/**
 * Runs the model on one tf.js backend: the model's layers are copied (topology and
 * weights) onto that backend, so the user's model stays where it was. The pipeline
 * then validates the copy against the cpu reference and keeps it only if faster.
 * One subclass per backend; the `backend` slot tries them in `backend.preference` order.
 */
export abstract class BackendPlugin implements OptimizationPlugin {
  protected abstract readonly descriptor: BackendDescriptor;

  constructor(protected readonly backends: BackendManager) {}

  isAvailable(): Promise<Availability> {
    return this.backends.ensure(this.descriptor);
  }

  async apply(target: KilnModel, context: PluginContext): Promise<KilnModel> {
    if (target.backend === this.descriptor.tfName) {
      context.note(`the model already runs on ${this.descriptor.tfName}`);
      return target;
    }
    if (!target.layersModel) {
      throw new Error(`backend selection needs a LayersModel; got "${target.description}". Put the backend slot first in the pipeline.`);
    }
    const copy = await cloneLayersModel(target.layersModel, this.descriptor.tfName);
    return new LayersKilnModel(copy, this.descriptor.tfName, true);
  }
}
