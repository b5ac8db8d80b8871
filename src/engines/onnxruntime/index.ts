export { ONNXRUNTIME_ENGINE, OnnxRuntimeEngine } from './onnxruntime-engine.js';
export { ONNXRUNTIME, OnnxRuntimeModel } from './onnxruntime-model.js';
export { ONNXRUNTIME_PACKAGE, type OrtModule, type OrtSession, type OrtSessionOptions, type OrtTensor } from './ort-api.js';
export type { ThreadChoice } from './thread-choice.js';
