export { ONNXRUNTIME_ENGINE, OnnxRuntimeEngine } from './onnxruntime-engine.js';
export { ONNXRUNTIME, OnnxRuntimeModel } from './onnxruntime-model.js';
export {
  ONNXRUNTIME_BINDING,
  ONNXRUNTIME_PACKAGE,
  type OrtModule,
  type OrtNativeBinding,
  type OrtNativeSession,
  type OrtSession,
  type OrtSessionOptions,
  type OrtTensor,
} from './ort-api.js';
export { NativeOrtSession } from './native-session.js';
export { THREAD_MEASUREMENT, THREAD_SETTINGS, type ThreadChoice, type ThreadMeasurement, type ThreadSetting } from './thread-choice.js';
