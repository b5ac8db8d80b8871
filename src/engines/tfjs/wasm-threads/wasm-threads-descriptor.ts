import type { BackendDescriptor } from '../backend-descriptor.js';
import { registerWasmThreads, WASM_THREADS_BACKEND } from './threaded-wasm.js';

/**
 * How Kiln brings `wasm-threads` up: no package registers it by being
 * imported, so its `register` hook starts the threaded build (see threaded-wasm.ts)
 * with `threads` threads (undefined: the machine's cores, at most 8).
 */
export function wasmThreadsDescriptor(threads?: number): BackendDescriptor {
  return {
    name: 'wasm-threads',
    tfName: WASM_THREADS_BACKEND,
    bundled: true,
    description: "WebAssembly with SIMD and threads: tfjs-backend-wasm's threaded build on worker_threads",
    register: (importModule) => registerWasmThreads(importModule, threads),
  };
}

/** The built-in descriptor, with the default thread count (what `kiln bench` and the built-in engine use). */
export const WASM_THREADS_DESCRIPTOR: BackendDescriptor = wasmThreadsDescriptor();
