import { CPU_ENGINE, TENSORFLOW_ENGINE, TENSORFLOW_GPU_ENGINE, WASM_ENGINE } from '../../engines/index.js';
import { defineBackendPlugin } from './define-backend-plugin.js';

/** The backend plugins of the built-in tf.js engines (wasm-threads has a class of its own: it also times single-threaded wasm). */
export const TensorflowGpuBackendPlugin = defineBackendPlugin(TENSORFLOW_GPU_ENGINE);
export const TensorflowBackendPlugin = defineBackendPlugin(TENSORFLOW_ENGINE);
export const WasmBackendPlugin = defineBackendPlugin(WASM_ENGINE);
export const CpuBackendPlugin = defineBackendPlugin(CPU_ENGINE);
