/**
 * Entry script of every pthread worker of the `wasm-threads` backend. It runs inside a
 * Node `worker_threads` Worker (emscripten starts it with `new Worker(path)`) and is
 * never imported by Kiln's own code.
 *
 * Written for @tensorflow/tfjs-backend-wasm 4.22.0. That package ships the pthread
 * worker of its threaded SIMD build only as a string: `wasm-out/
 * tfjs-backend-wasm-threaded-simd.worker.js` is a CommonJS module whose
 * `wasmWorkerContents` is the worker's source. In a browser tfjs hands emscripten a
 * `blob:` URL made from it, which Node's `Worker` refuses (ERR_WORKER_PATH). This file
 * is a real file that Kiln ships, so its path can be handed over instead and no
 * temporary file is written.
 *
 * The source is run as the body of a function that receives this module's `require`
 * and `__filename` (the two CommonJS locals it uses), which is how it would run had it
 * been a file of its own. Its newlines inside string literals are escaped first, as
 * tfjs does before making its blob (`init()` in dist/tf-backend-wasm.node.js).
 */
const WORKER_SOURCE_MODULE = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';

const { wasmWorkerContents } = require(WORKER_SOURCE_MODULE) as { wasmWorkerContents?: unknown };
if (typeof wasmWorkerContents !== 'string') {
  throw new Error(`${WORKER_SOURCE_MODULE} has no wasmWorkerContents string (not the layout of tfjs-backend-wasm 4.22.0)`);
}
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the package ships the worker as source text.
new Function('require', '__filename', wasmWorkerContents.replace(/\n/g, '\\n'))(require, __filename);

export {};
