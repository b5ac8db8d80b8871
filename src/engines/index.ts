/**
 * The built-in execution engines: the tf.js backends, and onnxruntime (outside tf.js,
 * not in the default `backend.preference`). Importing this module registers them in
 * tsyringe's root container (as importing the plugins registers the plugins).
 */
import { registerEngine } from '../core/engines/engine-registry.js';
import { ONNXRUNTIME_ENGINE } from './onnxruntime/onnxruntime-engine.js';
import { BUILT_IN_ENGINES } from './tfjs/built-in-engines.js';

for (const engine of BUILT_IN_ENGINES) registerEngine(engine);
registerEngine(ONNXRUNTIME_ENGINE);

export {
  BUILT_IN_ENGINES,
  CPU_ENGINE,
  TENSORFLOW_ENGINE,
  TENSORFLOW_GPU_ENGINE,
  WASM_ENGINE,
  WASM_THREADS_ENGINE,
} from './tfjs/built-in-engines.js';
export type { BackendDescriptor } from './tfjs/backend-descriptor.js';
export { TfjsBackendEngine } from './tfjs/tfjs-backend-engine.js';
export {
  ONNXRUNTIME,
  ONNXRUNTIME_ENGINE,
  OnnxRuntimeEngine,
  OnnxRuntimeModel,
  THREAD_MEASUREMENT,
  THREAD_SETTINGS,
  type ThreadChoice,
  type ThreadMeasurement,
  type ThreadSetting,
} from './onnxruntime/index.js';
