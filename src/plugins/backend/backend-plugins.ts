import { BackendManager, BUILT_IN_BACKENDS, type BackendDescriptor } from '../../core/backend-manager.js';
import { Plugin } from '../../core/plugin-decorator.js';
import { BackendPlugin } from './backend-plugin.js';

/** Plugin name for a backend in `backend.preference`: wasm -> backend-wasm. */
export function backendPluginName(backend: string): string {
  return `backend-${backend}`;
}

function descriptor(name: string): BackendDescriptor {
  return BUILT_IN_BACKENDS.find((d) => d.name === name)!;
}

@Plugin({ name: 'backend-tensorflow-gpu', kind: 'backend', objective: 'latency', description: 'TensorFlow C library with CUDA (@tensorflow/tfjs-node-gpu, optional peer dependency)' })
export class TensorflowGpuBackendPlugin extends BackendPlugin {
  protected readonly descriptor = descriptor('tensorflow-gpu');
  constructor(backends: BackendManager) { super(backends); }
}

@Plugin({ name: 'backend-tensorflow', kind: 'backend', objective: 'latency', description: 'TensorFlow C library on the CPU (@tensorflow/tfjs-node, optional peer dependency)' })
export class TensorflowBackendPlugin extends BackendPlugin {
  protected readonly descriptor = descriptor('tensorflow');
  constructor(backends: BackendManager) { super(backends); }
}

@Plugin({ name: 'backend-wasm', kind: 'backend', objective: 'latency', description: 'WebAssembly with SIMD (@tensorflow/tfjs-backend-wasm, .wasm files shipped in the package)' })
export class WasmBackendPlugin extends BackendPlugin {
  protected readonly descriptor = descriptor('wasm');
  constructor(backends: BackendManager) { super(backends); }
}

@Plugin({ name: 'backend-cpu', kind: 'backend', objective: 'latency', description: 'Plain JavaScript kernels (the tf.js default in Node)' })
export class CpuBackendPlugin extends BackendPlugin {
  protected readonly descriptor = descriptor('cpu');
  constructor(backends: BackendManager) { super(backends); }
}
