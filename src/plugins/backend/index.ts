export { BackendPlugin } from './backend-plugin.js';
export { backendPluginName, defineBackendPlugin, type BackendPluginClass } from './define-backend-plugin.js';
export { CpuBackendPlugin, TensorflowBackendPlugin, TensorflowGpuBackendPlugin, WasmBackendPlugin } from './backend-plugins.js';
export { defineOnnxRuntimeBackendPlugin, OnnxRuntimeBackendPlugin } from './onnxruntime-backend-plugin.js';
export * from './wasm-threads/index.js';
