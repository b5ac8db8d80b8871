import { TfjsBackendEngine } from './tfjs-backend-engine.js';
import { WASM_THREADS_DESCRIPTOR } from './wasm-threads/wasm-threads-descriptor.js';

/** The tf.js backends Kiln knows, best first (the default `backend.preference`). */
export const TENSORFLOW_GPU_ENGINE = new TfjsBackendEngine({
  name: 'tensorflow-gpu',
  tfName: 'tensorflow',
  packageName: '@tensorflow/tfjs-node-gpu',
  description: 'TensorFlow C library with CUDA (@tensorflow/tfjs-node-gpu, optional peer dependency)',
});
export const TENSORFLOW_ENGINE = new TfjsBackendEngine({
  name: 'tensorflow',
  tfName: 'tensorflow',
  packageName: '@tensorflow/tfjs-node',
  description: 'TensorFlow C library on the CPU (@tensorflow/tfjs-node, optional peer dependency)',
});
export const WASM_THREADS_ENGINE = new TfjsBackendEngine(WASM_THREADS_DESCRIPTOR);
export const WASM_ENGINE = new TfjsBackendEngine({
  name: 'wasm',
  tfName: 'wasm',
  packageName: '@tensorflow/tfjs-backend-wasm',
  bundled: true,
  description: 'WebAssembly with SIMD (@tensorflow/tfjs-backend-wasm, .wasm files shipped in the package)',
});
export const CPU_ENGINE = new TfjsBackendEngine({
  name: 'cpu',
  tfName: 'cpu',
  description: 'Plain JavaScript kernels (the tf.js default in Node)',
});

export const BUILT_IN_ENGINES: readonly TfjsBackendEngine[] = [
  TENSORFLOW_GPU_ENGINE,
  TENSORFLOW_ENGINE,
  WASM_THREADS_ENGINE,
  WASM_ENGINE,
  CPU_ENGINE,
];
