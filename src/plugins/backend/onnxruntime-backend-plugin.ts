import { EngineManager } from '../../core/engines/engine-manager.js';
import { Plugin, type PluginRegistrationOptions } from '../../core/plugin-decorator.js';
import { unavailable, type Availability, type AvailabilityContext } from '../../core/plugin.js';
import { ONNXRUNTIME_ENGINE, type OnnxRuntimeEngine } from '../../engines/onnxruntime/index.js';
import { BackendPlugin } from './backend-plugin.js';
import { backendPluginName, type BackendPluginClass } from './define-backend-plugin.js';

/**
 * The `backend-onnxruntime` plugin of an onnxruntime engine: the backend plugin of any
 * engine, except that it is unavailable in training mode (onnxruntime runs Kiln's ONNX
 * lowering for inference; there are no tf.js variables to train). Its models run only
 * through `predictAsync`, which the pipeline's validation and timing await.
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
