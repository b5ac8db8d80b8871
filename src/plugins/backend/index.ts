export { BackendPlugin } from './backend-plugin.js';
export { backendPluginName, CpuBackendPlugin, TensorflowBackendPlugin, TensorflowGpuBackendPlugin, WasmBackendPlugin } from './backend-plugins.js';
export * from './wasm-threads/index.js';
