import { EngineManager } from '../../core/engines/engine-manager.js';
import { Plugin, type PluginRegistrationOptions } from '../../core/plugin-decorator.js';
import type { KilnModel } from '../../core/kiln-model.js';
import { unavailable, type Availability, type AvailabilityContext, type PluginContext } from '../../core/plugin.js';
import { ONNXRUNTIME_ENGINE, OnnxRuntimeModel, type OnnxRuntimeEngine } from '../../engines/onnxruntime/index.js';
import { describeOnnxSize, UnsupportedKernelError } from '../../lowering/index.js';
import { BackendPlugin } from './backend-plugin.js';
import { backendPluginName, type BackendPluginClass } from './define-backend-plugin.js';

/**
 * The `backend-onnxruntime` plugin of an onnxruntime engine: the backend plugin of any
 * engine, except that it is unavailable in training mode (onnxruntime runs Kiln's ONNX
 * lowering for inference; there are no tf.js variables to train), and that it builds
 * the session of the sample inputs in `apply`: a kernel with no ONNX lowering makes it
 * `skipped`, naming the kernel. Its models' `predict` is synchronous (the native
 * binding's sessions), so a kept onnxruntime model is a drop-in for the user's model.
 */
export function defineOnnxRuntimeBackendPlugin(
  engine: OnnxRuntimeEngine = ONNXRUNTIME_ENGINE,
  options: PluginRegistrationOptions = {},
): BackendPluginClass {
  @Plugin({ name: backendPluginName(engine.name), kind: 'backend', objective: 'latency', description: engine.description }, options)
  class OnnxRuntimeBackendPlugin extends BackendPlugin {
    protected readonly engine = engine;
    constructor(engines: EngineManager) {
      super(engines);
    }

    /**
     * The engine's model, with the session of the sample inputs' signature built; a model
     * with a kernel that has no ONNX lowering is `skipped`, the kernel named in the reason.
     */
    override async apply(target: KilnModel, context: PluginContext): Promise<KilnModel> {
      const result = await super.apply(target, context);
      if (result === target || !(result instanceof OnnxRuntimeModel)) return result;
      try {
        result.prepareFor(context.sampleInputs);
      } catch (error) {
        result.dispose();
        if (!(error instanceof UnsupportedKernelError)) throw error;
        context.note(error.message);
        return target;
      }
      const onnx = result.onnx;
      const weights = result.onnxWeights;
      if (onnx && weights) {
        context.metric('onnxBytes', onnx.length);
        context.note(`ONNX file of the sample inputs' signature: ${describeOnnxSize(onnx.length, weights)}`);
      }
      return result;
    }

    override isAvailable(context?: AvailabilityContext): Promise<Availability> {
      if (context?.mode === 'training')
        return Promise.resolve(
          unavailable('onnxruntime runs inference only (an ONNX graph lowered from the traced predict): no gradients'),
        );
      return super.isAvailable();
    }
  }
  return OnnxRuntimeBackendPlugin;
}

/** `backend-onnxruntime`, registered on import (not in the default backend.preference: name `onnxruntime` there to try it). */
export const OnnxRuntimeBackendPlugin = defineOnnxRuntimeBackendPlugin();
