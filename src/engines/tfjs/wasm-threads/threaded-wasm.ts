import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { describeError } from '../../../core/errors.js';
import { unavailable, type Availability } from '../../../core/plugin.js';
import type { ModuleImporter } from '../../../core/tokens.js';

/*
 * The threaded SIMD build of @tensorflow/tfjs-backend-wasm, started under Node and
 * registered as a second tf.js backend, `wasm-threads`, beside the package's own
 * single-threaded `wasm`.
 *
 * Written for @tensorflow/tfjs-backend-wasm 4.22.0 (SUPPORTED_WASM_VERSIONS). Under
 * Node that package never uses its threaded build: its flag WASM_HAS_MULTITHREAD_SUPPORT
 * is hard-wired to false there (tfjs issue 3830), and its `init()` hands emscripten a
 * `blob:` URL for the pthread worker, which Node's Worker refuses. So Kiln starts the
 * emscripten module itself, working around what that release does:
 *
 *   1. The pthread worker: emscripten calls `new Worker(locateFile('...worker.js'))`.
 *      `locateFile` answers with pthread-worker.js, a file Kiln ships that runs the
 *      worker source the package ships as a string. No temporary file.
 *   2. The load message: each worker imports the main script from
 *      `mainScriptUrlOrBlob`; it gets the path of the threaded build's JS file in the
 *      package (wasm-out/tfjs-backend-wasm-threaded-simd.js), not a Blob.
 *   3. The thread count: tfjs's `init_with_threads_count(n)` caps n at
 *      emscripten_num_logical_cores() / 2 (read once, when the module's static
 *      constructors run) and at 8. On a 2-core machine that is 1 thread. The module's
 *      import `emscripten_num_logical_cores` is replaced, for this module instance only
 *      (through emscripten's `instantiateWasm` hook), by one that answers 2 x threads.
 *   4. The backend object: the package's BackendWasm is constructed on the module. Its
 *      constructor calls `init_with_threads_count` with the package-wide count that
 *      setThreadsCount() sets, and writes the package-wide count getThreadsCount()
 *      reports; both are redirected while it runs, so the `wasm` backend's settings
 *      and figures stay as they were.
 *   5. Kernels: tf.js registers kernels per backend name. The `wasm` kernels are
 *      registered again for `wasm-threads`. Their setupFunc binds module-level
 *      functions to the backend's emscripten module (none has a disposeFunc in
 *      4.22.0); tf.setBackend runs every setupFunc of the backend it switches to, so
 *      the bindings follow the active backend. Kernels only ever run on the active
 *      backend, so `wasm` and `wasm-threads` never see each other's module.
 *
 * Everything global that the start touches is scoped and restored:
 *   - emscripten sets `global.Worker` (Node 20 has none): restored once the threads run
 *     (no worker is created after that; see MAX_WASM_THREADS);
 *   - emscripten adds process listeners for uncaughtException and unhandledRejection
 *     that rethrow: removed as soon as the factory returns;
 *   - a pthread worker error during the start would be thrown from an event handler by
 *     emscripten (crashing the process): during the start it fails the start instead.
 *
 * Clean-up: the pthread workers are unref'd, so a process exits by itself when its
 * work is done; the idle workers of emscripten's pool (8 in this build) beyond those
 * the thread pool runs are terminated at once; `stopWasmThreads()` removes the backend
 * and terminates the rest.
 */

export const WASM_THREADS_BACKEND = 'wasm-threads';
export const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
/** The threaded build's main script (the emscripten factory), a CommonJS module. */
export const THREADED_FACTORY_MODULE = `${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.js`;
const THREADED_WASM_FILE = 'wasm-out/tfjs-backend-wasm-threaded-simd.wasm';
const WORKER_SOURCE_FILE = 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';
/** Versions of tfjs-backend-wasm whose emscripten output this file was written against. */
export const SUPPORTED_WASM_VERSIONS: readonly string[] = ['4.22.0'];
/**
 * Most threads: tfjs 4.22.0 caps init_with_threads_count at 8, and emscripten's pthread
 * pool holds 8 workers, so every thread comes from the pool and no worker is created
 * after the start (when `global.Worker` is back to what it was).
 */
export const MAX_WASM_THREADS = 8;
/** tf.js backend priority: below cpu (1) and wasm (2), so tf.js never picks it by itself. */
const BACKEND_PRIORITY = 0;

/** The default thread count: the machine's cores, at most MAX_WASM_THREADS. */
export function defaultWasmThreads(): number {
  return Math.max(1, Math.min(os.availableParallelism(), MAX_WASM_THREADS));
}

/** What a started `wasm-threads` backend runs with, for the report. */
export interface WasmThreadsInfo {
  /** Threads asked for. */
  readonly requested: number;
  /** Threads in XNNPACK's pool, as the module reports them (get_threads_count): the calling thread and the pthreads. */
  readonly threads: number;
  /** Pthread workers seen inside their thread routine (event-loop utilisation ~1 while their own loop waits). */
  readonly pthreadsRunning: number;
  /** Wall time of the start, in ms. */
  readonly startMs: number;
  readonly wasmVersion: string;
}

export type WasmThreadsStart =
  { readonly available: true; readonly info: WasmThreadsInfo } | { readonly available: false; readonly reason: string };

export interface StartOptions {
  readonly threads: number;
  /** Imports the package and the threaded build's factory (tests inject stand-ins here). */
  readonly importModule: ModuleImporter;
  /** Time for the module and its workers to start. Default 30 s. */
  readonly startTimeoutMs?: number;
  /** Time for every pthread to be seen running. Default 5 s. */
  readonly confirmTimeoutMs?: number;
}

// ---- the emscripten module of tfjs-backend-wasm 4.22.0, as far as Kiln uses it ----

interface PThreadApi {
  unusedWorkers: Worker[];
  runningWorkers: Worker[];
  terminateAllThreads(): void;
}

/** The part of the WebAssembly global used here (Kiln compiles without the DOM lib). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  instantiate(bytes: Uint8Array, imports: WasmImports): Promise<{ instance: object; module: object }>;
}
type WasmImports = Record<string, Record<string, unknown>>;
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Cwrap = (name: string, returnType: string | null, argTypes: string[]) => (...args: number[]) => number;

interface TfjsBridge {
  init(): void;
  initWithThreadsCount(threads: number): void;
  getThreadsCount(): number;
  registerTensor(id: number, size: number, offset: number): void;
  disposeData(id: number): void;
  dispose(): void;
}

interface ThreadedModule {
  cwrap: Cwrap;
  PThread: PThreadApi;
  tfjs?: TfjsBridge;
}

interface FactoryConfig {
  locateFile(file: string, prefix: string): string;
  mainScriptUrlOrBlob: string;
  instantiateWasm(imports: WasmImports, receive: (instance: object, module: object) => void): object;
  print(text: string): void;
  printErr(text: string): void;
  onAbort(what: unknown): void;
  /** Set by the factory (Module["PThread"]) before it returns. */
  PThread?: PThreadApi;
}

type ThreadedFactory = (config: FactoryConfig) => Promise<ThreadedModule>;

interface WasmPackage {
  version_wasm?: string;
  BackendWasm?: new (module: ThreadedModule) => tf.KernelBackend;
  getThreadsCount?: () => number;
}

// ---- process-wide state: one threaded module per process ----

interface Live {
  readonly info: WasmThreadsInfo;
  readonly module: ThreadedModule;
  readonly workers: readonly Worker[];
}

let current: { readonly threads: number; readonly start: Promise<WasmThreadsStart> } | undefined;
let live: Live | undefined;

/**
 * Starts the threaded build with `threads` threads and registers the `wasm-threads`
 * tf.js backend, once per process; says why it cannot. A failed start leaves nothing
 * behind (workers terminated, globals restored) and may be tried again. Once started,
 * the thread count is fixed: asking for another count is `unavailable`.
 */
export async function startWasmThreads(options: StartOptions): Promise<WasmThreadsStart> {
  if (live && tf.findBackendFactory(WASM_THREADS_BACKEND) == null) {
    // Someone called tf.removeBackend('wasm-threads'), which disposed the module: start afresh.
    await stopWasmThreads();
  }
  if (current && current.threads !== options.threads) {
    const started = await current.start;
    if (started.available) {
      return {
        available: false,
        reason: `wasm-threads already runs with ${started.info.threads} threads in this process, and the count is fixed once started (asked for ${options.threads}; restart the process to change backend.threads)`,
      };
    }
  }
  if (!current || current.threads !== options.threads) {
    const start = bringUp(options);
    const entry = { threads: options.threads, start };
    current = entry;
    void start.then((s) => {
      if (!s.available && current === entry) current = undefined;
    });
  }
  return current.start;
}

/** The running backend's figures, when `wasm-threads` is up. */
export function wasmThreadsInfo(): WasmThreadsInfo | undefined {
  return live?.info;
}

/**
 * Removes the `wasm-threads` backend (its tensors go with it), unregisters its
 * kernels and terminates its workers. Nothing is needed for a process to exit (the
 * workers are unref'd); this is for freeing the threads early, and for tests.
 */
export async function stopWasmThreads(): Promise<void> {
  if (current) await current.start;
  current = undefined;
  const stopping = live;
  live = undefined;
  if (!stopping) return; // nothing of ours runs (a backend of that name that someone else registered stays)
  if (tf.getBackend() === WASM_THREADS_BACKEND) await tf.setBackend('cpu');
  for (const kernel of tf.getKernelsForBackend(WASM_THREADS_BACKEND)) tf.unregisterKernel(kernel.kernelName, WASM_THREADS_BACKEND);
  // removeBackend disposes the BackendWasm, which terminates the module's threads.
  if (tf.findBackendFactory(WASM_THREADS_BACKEND)) tf.removeBackend(WASM_THREADS_BACKEND);
  await terminateAll(stopping.workers);
}

// ---- the start ----

async function bringUp(options: StartOptions): Promise<WasmThreadsStart> {
  const started = performance.now();
  const threads = options.threads;
  if (!Number.isInteger(threads) || threads < 2 || threads > MAX_WASM_THREADS) {
    return fail(`needs 2 to ${MAX_WASM_THREADS} threads (got ${threads})`);
  }
  if (tf.findBackendFactory(WASM_THREADS_BACKEND) != null) {
    return fail(`a tf.js backend named "${WASM_THREADS_BACKEND}" is already registered by someone else`);
  }
  const missing = missingPlatformFeature();
  if (missing) return fail(missing);

  let pkg: WasmPackage;
  try {
    pkg = (await options.importModule(WASM_PACKAGE)) as WasmPackage;
  } catch (error) {
    return fail(`${WASM_PACKAGE} failed to load: ${describeError(error)}`);
  }
  const version = pkg.version_wasm;
  if (typeof version !== 'string' || !SUPPORTED_WASM_VERSIONS.includes(version)) {
    return fail(
      `${WASM_PACKAGE} ${version ?? '(no version_wasm export)'} is not a version it was written for (${SUPPORTED_WASM_VERSIONS.join(', ')}); it relies on that release's emscripten internals, so it does not start on another`,
    );
  }
  if (typeof pkg.BackendWasm !== 'function') return fail(`${WASM_PACKAGE} ${version} exports no BackendWasm class`);
  const wasmKernels = tf.getKernelsForBackend('wasm');
  if (wasmKernels.length === 0)
    return fail(`no kernels are registered for "wasm" with Kiln's @tensorflow/tfjs ${tf.version.tfjs} (two copies of tfjs-core?)`);

  const files = locateFiles();
  if (typeof files === 'string') return fail(files);

  let factory: ThreadedFactory;
  try {
    const imported = (await options.importModule(THREADED_FACTORY_MODULE)) as { default?: unknown };
    const candidate = typeof imported === 'function' ? imported : imported?.default;
    if (typeof candidate !== 'function') return fail(`${THREADED_FACTORY_MODULE} exports no emscripten factory`);
    factory = candidate as ThreadedFactory;
  } catch (error) {
    return fail(`the threaded build ${THREADED_FACTORY_MODULE} failed to load: ${describeError(error)}`);
  }

  const globals = captureGlobals();
  const messages: string[] = [];
  let workers: Worker[] = [];
  try {
    const { module, poolWorkers } = await startModule(factory, files, threads, messages, globals, options.startTimeoutMs ?? 30_000);
    workers = poolWorkers;
    const backend = constructBackend(pkg, module, threads);
    const reported = module.PThread.runningWorkers;
    const count = module.tfjs!.getThreadsCount();
    if (count !== threads) throw new Error(`the thread pool has ${count} thread(s), not the ${threads} asked for`);
    if (reported.length !== threads - 1)
      throw new Error(`${reported.length} pthread worker(s) run, not the ${threads - 1} a pool of ${threads} needs`);
    // emscripten refs a worker while it runs a pthread; these run for the module's life.
    for (const w of reported) w.unref();
    // No worker is created after this point (see MAX_WASM_THREADS): give the global back.
    globals.restoreWorker();
    const confirmTimeoutMs = options.confirmTimeoutMs ?? 5_000;
    const running = await countThreadsRunning(reported, confirmTimeoutMs);
    if (running < reported.length)
      throw new Error(`only ${running} of ${reported.length} pthread worker(s) entered their thread routine within ${confirmTimeoutMs} ms`);
    // The pool's spare workers would only idle: terminate them, and take them out of the pool.
    await terminateAll(module.PThread.unusedWorkers.splice(0));
    for (const kernel of wasmKernels) tf.registerKernel({ ...kernel, backendName: WASM_THREADS_BACKEND });
    if (!tf.registerBackend(WASM_THREADS_BACKEND, () => backend, BACKEND_PRIORITY))
      throw new Error(`tf.registerBackend("${WASM_THREADS_BACKEND}") refused`);
    const info: WasmThreadsInfo = {
      requested: threads,
      threads: count,
      pthreadsRunning: running,
      startMs: round(performance.now() - started),
      wasmVersion: version,
    };
    live = { info, module, workers: [...reported] };
    return { available: true, info };
  } catch (error) {
    for (const kernel of tf.getKernelsForBackend(WASM_THREADS_BACKEND)) tf.unregisterKernel(kernel.kernelName, WASM_THREADS_BACKEND);
    await terminateAll(workers);
    globals.restore();
    const said = messages.length ? ` (emscripten said: ${messages.slice(-3).join(' | ')})` : '';
    return fail(`the threaded build did not start: ${describeError(error)}${said}`);
  }
}

function fail(reason: string): WasmThreadsStart {
  return { available: false, reason };
}

function missingPlatformFeature(): string | undefined {
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available in this Node.js';
  try {
    // A module with a shared memory and an atomic load (wasm-feature-detect's threads probe, as tfjs-backend-wasm uses it).
    const probe = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0, 26, 11,
    ]);
    if (!WebAssemblyApi.validate(probe)) return 'this Node.js has no WebAssembly threads (atomics on shared memory)';
  } catch (error) {
    return `WebAssembly threads could not be probed: ${describeError(error)}`;
  }
  return undefined;
}

interface ThreadedFiles {
  /** The emscripten main script, which every worker loads. */
  readonly mainScript: string;
  readonly wasmBinary: string;
  /** Kiln's worker entry (pthread-worker.js). */
  readonly workerEntry: string;
}

/** The package's files and Kiln's worker entry, or what is missing. */
function locateFiles(): ThreadedFiles | string {
  let root: string;
  try {
    root = path.dirname(require.resolve(`${WASM_PACKAGE}/package.json`));
  } catch (error) {
    return `${WASM_PACKAGE} could not be resolved: ${describeError(error)}`;
  }
  const files = {
    mainScript: path.join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'),
    wasmBinary: path.join(root, THREADED_WASM_FILE),
    workerSource: path.join(root, WORKER_SOURCE_FILE),
    workerEntry: path.join(__dirname, 'pthread-worker.js'),
  };
  const absent = Object.values(files).filter((f) => !existsSync(f));
  if (absent.length) return `files of the threaded build are missing: ${absent.join(', ')}`;
  return files;
}

interface CapturedGlobals {
  /** Removes the process listeners the factory added. */
  removeAddedListeners(): void;
  restoreWorker(): void;
  restore(): void;
}

const LISTENED = ['uncaughtException', 'unhandledRejection'] as const;

function captureGlobals(): CapturedGlobals {
  const g = globalThis as { Worker?: unknown };
  const hadWorker = Object.prototype.hasOwnProperty.call(g, 'Worker');
  const worker = g.Worker;
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(LISTENED.map((e) => [e, emitter.listeners(e)]));
  const removeAddedListeners = () => {
    for (const event of LISTENED) {
      for (const l of emitter.listeners(event))
        if (!before.get(event)!.includes(l)) emitter.removeListener(event, l as (...args: unknown[]) => void);
    }
  };
  const restoreWorker = () => {
    if (hadWorker) g.Worker = worker;
    else delete g.Worker;
  };
  return {
    removeAddedListeners,
    restoreWorker,
    restore: () => {
      removeAddedListeners();
      restoreWorker();
    },
  };
}

/** Runs the emscripten factory with Kiln's hooks; resolves once the module and its pool of workers are ready. */
async function startModule(
  factory: ThreadedFactory,
  files: ThreadedFiles,
  threads: number,
  messages: string[],
  globals: CapturedGlobals,
  timeoutMs: number,
): Promise<{ module: ThreadedModule; poolWorkers: Worker[] }> {
  let starting = true;
  let failStart!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => {
    failStart = reject;
  });
  failed.catch(() => undefined);
  const config: FactoryConfig = {
    locateFile: (file, prefix) => {
      if (file.endsWith('.worker.js')) return files.workerEntry;
      if (file.endsWith('.wasm')) return files.wasmBinary;
      return prefix + file;
    },
    mainScriptUrlOrBlob: files.mainScript,
    instantiateWasm: (imports, receive) => {
      // emscripten_num_logical_cores / 2 caps the thread pool (see the top of this file).
      const env = { ...imports.env, emscripten_num_logical_cores: () => 2 * threads };
      fsp
        .readFile(files.wasmBinary)
        .then((bytes) => WebAssemblyApi.instantiate(bytes, { ...imports, env }))
        .then((result) => receive(result.instance, result.module))
        .catch((error) => failStart(new Error(`instantiating ${files.wasmBinary} failed: ${describeError(error)}`)));
      return {};
    },
    // Kept for the reason while starting; afterwards the module prints as emscripten would.
    print: (text) => (starting ? messages.push(String(text)) : console.log(String(text))),
    printErr: (text) => (starting ? messages.push(String(text)) : console.warn(String(text))),
    onAbort: (what) => failStart(new Error(`emscripten aborted: ${describeError(what)}`)),
  };
  let ready: Promise<ThreadedModule>;
  try {
    ready = Promise.resolve(factory(config));
    ready.catch(() => undefined); // a rejection after the time limit has no one to tell
  } finally {
    // Synchronous part done: emscripten has added its rethrowing process listeners and
    // created the pool's workers (PThread.init).
    globals.removeAddedListeners();
  }
  const poolWorkers = [...(config.PThread?.unusedWorkers ?? [])];
  const detach = guardWorkersDuringStart(poolWorkers, failStart);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the module and its ${poolWorkers.length} workers did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const module = await Promise.race([ready, failed, timeout]);
    if (!module?.PThread || typeof module.cwrap !== 'function')
      throw new Error('the factory resolved to something that is not the threaded emscripten module');
    const cwrap = module.cwrap;
    module.tfjs = {
      init: cwrap('init', null, []),
      initWithThreadsCount: cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: cwrap('get_threads_count', 'number', []),
      registerTensor: cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: cwrap('dispose_data', null, ['number']),
      dispose: cwrap('dispose', null, []),
    } as TfjsBridge;
    // The pool as the module has it (the same workers, unless a stand-in factory copied the config).
    const all = new Set([...poolWorkers, ...module.PThread.unusedWorkers, ...module.PThread.runningWorkers]);
    poolWorkers.splice(0, poolWorkers.length, ...all);
    return { module, poolWorkers };
  } catch (error) {
    await terminateAll(poolWorkers);
    throw error;
  } finally {
    starting = false;
    clearTimeout(timer);
    detach();
  }
}

/**
 * While the module starts, a worker's error or exit fails the start. emscripten calls
 * `worker.onerror` from its own 'error' listener and throws there, which would crash
 * the process; until the start is over, `onerror` is Kiln's. Afterwards it throws
 * again, as emscripten's does: a pthread that fails later leaves the module unusable.
 */
function guardWorkersDuringStart(workers: readonly Worker[], failStart: (error: unknown) => void): () => void {
  const onError = (error: unknown) => failStart(new Error(`a pthread worker failed: ${describeError(error)}`));
  const onExit = (code: number) => failStart(new Error(`a pthread worker exited with code ${code}`));
  for (const w of workers) {
    w.on('error', onError);
    w.on('exit', onExit);
    Object.defineProperty(w, 'onerror', { configurable: true, get: () => onError, set: () => undefined });
  }
  return () => {
    for (const w of workers) {
      w.off('exit', onExit);
      w.off('error', onError);
      Object.defineProperty(w, 'onerror', {
        configurable: true,
        writable: true,
        value: (error: unknown) => {
          throw new Error(`wasm-threads: a pthread worker failed: ${describeError(error)}`);
        },
      });
    }
  };
}

/**
 * The package's BackendWasm on the threaded module. Its constructor passes the
 * package-wide thread count to init_with_threads_count and stores the result in the
 * package-wide figure that getThreadsCount() reports for `wasm`; both are redirected
 * for the constructor's duration.
 */
function constructBackend(pkg: WasmPackage, module: ThreadedModule, threads: number): tf.KernelBackend {
  const bridge = module.tfjs!;
  let previous = -1;
  try {
    previous = pkg.getThreadsCount?.() ?? -1;
  } catch {
    previous = -1; // "WASM backend not initialized": stays so.
  }
  module.tfjs = { ...bridge, initWithThreadsCount: () => bridge.initWithThreadsCount(threads), getThreadsCount: () => previous };
  try {
    return new pkg.BackendWasm!(module);
  } finally {
    module.tfjs = bridge;
  }
}

/**
 * How many of `workers` are inside their thread routine. A pthread worker idles in its
 * event loop until emscripten posts it a thread to run; from then on it stays inside
 * that one task (pthreadpool's threads wait on a futex between jobs), so its event-loop
 * utilisation over a short window is ~1. Waits up to `timeoutMs` for all of them.
 */
async function countThreadsRunning(workers: readonly Worker[], timeoutMs: number): Promise<number> {
  const seen = new Set<Worker>();
  const deadline = performance.now() + timeoutMs;
  while (seen.size < workers.length && performance.now() < deadline) {
    const before = workers.map((w) => w.performance.eventLoopUtilization());
    await new Promise((resolve) => setTimeout(resolve, 20));
    workers.forEach((w, i) => {
      const window = w.performance.eventLoopUtilization(w.performance.eventLoopUtilization(), before[i]);
      if (window.utilization >= 0.9) seen.add(w);
    });
  }
  return seen.size;
}

async function terminateAll(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.terminate().catch(() => undefined)));
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

/** The `backend-wasm-threads` availability for `threads` (undefined: the machine's cores). */
export async function registerWasmThreads(importModule: ModuleImporter, threads: number | undefined): Promise<Availability> {
  const count = threads ?? defaultWasmThreads();
  if (count < 2) {
    return unavailable(
      threads === undefined
        ? `this machine has ${os.availableParallelism()} core; the single-threaded wasm backend is the one to use`
        : `threads disabled by config (backend.threads: ${threads}); the single-threaded wasm backend is the one to use`,
    );
  }
  const started = await startWasmThreads({ threads: count, importModule });
  return started.available ? { available: true } : unavailable(started.reason);
}
