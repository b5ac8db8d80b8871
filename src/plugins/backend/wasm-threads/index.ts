export {
  defaultWasmThreads,
  MAX_WASM_THREADS,
  startWasmThreads,
  stopWasmThreads,
  SUPPORTED_WASM_VERSIONS,
  WASM_THREADS_BACKEND,
  wasmThreadsInfo,
  type WasmThreadsInfo,
  type WasmThreadsStart,
} from '../../../engines/tfjs/wasm-threads/threaded-wasm.js';
export { WASM_THREADS_DESCRIPTOR, wasmThreadsDescriptor } from '../../../engines/tfjs/wasm-threads/wasm-threads-descriptor.js';
export { WasmThreadsBackendPlugin } from './wasm-threads-plugin.js';
