import { inject } from 'tsyringe';
import type { KilnConfig } from '../../../config/kiln-config.js';
import { Benchmarker } from '../../../core/benchmark/benchmarker.js';
import { EngineManager } from '../../../core/engines/engine-manager.js';
import type { ExecutionEngine } from '../../../core/engines/execution-engine.js';
import { CandidateRejectedError } from '../../../core/errors.js';
import type { KilnModel } from '../../../core/kiln-model.js';
import { WASM_ENGINE } from '../../../engines/tfjs/built-in-engines.js';
import { describeRuns, formatRatio } from '../../../core/pipeline/trial/format-ratio.js';
import { TfjsBackendEngine } from '../../../engines/tfjs/tfjs-backend-engine.js';
import type { PluginContext } from '../../../core/plugin.js';
import { Plugin } from '../../../core/plugin-decorator.js';
import { KILN_CONFIG } from '../../../core/tokens.js';
import { BackendPlugin } from '../backend-plugin.js';
import { wasmThreadsInfo } from '../../../engines/tfjs/wasm-threads/threaded-wasm.js';
import { wasmThreadsDescriptor } from '../../../engines/tfjs/wasm-threads/wasm-threads-descriptor.js';

/**
 * tfjs-backend-wasm's threaded SIMD build, which the package itself never starts under
 * Node, started with `backend.threads` threads (default: the machine's cores) and
 * registered as the tf.js backend `wasm-threads` (see threaded-wasm.ts). Its start
 * checks that the threads run; the model is then copied onto it and validated like on
 * any other backend. Anything short of that is `unavailable` with the reason, and the
 * pipeline goes on to single-threaded `wasm`.
 *
 * Threads cost a hand-over per kernel, which small models at batch 1 do not earn back
 * (and a busy machine makes every hand-over wait for a core). So `apply` also times the
 * model on single-threaded `wasm`, interleaved (benchmark.warmup and .iterations), and
 * steps aside (`rejected`, so `wasm` is tried next) unless the threads are at least
 * benchmark.minSpeedup faster.
 */
@Plugin({
  name: 'backend-wasm-threads',
  kind: 'backend',
  objective: 'latency',
  description:
    "WebAssembly with SIMD and threads: tfjs-backend-wasm's threaded build on worker_threads (backend.threads; default: the cores)",
})
export class WasmThreadsBackendPlugin extends BackendPlugin {
  protected readonly engine: ExecutionEngine;

  constructor(
    engines: EngineManager,
    private readonly benchmarker: Benchmarker,
    @inject(KILN_CONFIG) private readonly config: KilnConfig,
  ) {
    super(engines);
    this.engine = new TfjsBackendEngine(wasmThreadsDescriptor(config.backend.threads));
  }

  override async apply(target: KilnModel, context: PluginContext): Promise<KilnModel> {
    const info = wasmThreadsInfo();
    if (info) {
      context.metric('threads', info.threads);
      context.metric('pthreadsRunning', info.pthreadsRunning);
      context.metric('threadsStartMs', info.startMs);
      context.note(
        `threaded SIMD build of tfjs-backend-wasm ${info.wasmVersion}: ${info.threads} threads in XNNPACK's pool (the calling thread and ${info.pthreadsRunning} pthread worker(s), each seen running)`,
      );
    }
    const candidate = await super.apply(target, context);
    if (candidate === target) return candidate;
    try {
      await this.compareWithWasm(target, candidate, context, info?.threads);
    } catch (error) {
      candidate.dispose();
      throw error;
    }
    return candidate;
  }

  /** Times the model on single-threaded wasm and on wasm-threads, interleaved; rejects when the threads do not pay. */
  private async compareWithWasm(
    target: KilnModel,
    candidate: KilnModel,
    context: PluginContext,
    threads: number | undefined,
  ): Promise<void> {
    const wasm = await this.engines.ensure(WASM_ENGINE);
    if (!wasm.available) {
      context.note(`not compared with single-threaded wasm, which cannot run: ${wasm.reason}`);
      return;
    }
    const single = await WASM_ENGINE.prepare(target);
    try {
      const { minSpeedup } = this.config.benchmark;
      const result = this.benchmarker.compare(
        [
          { name: 'wasm', model: single },
          { name: 'wasm-threads', model: candidate },
        ],
        context.sampleInputs,
        { ...this.config.benchmark, decideAt: minSpeedup },
      );
      const [one, many] = result.variants as [(typeof result.variants)[0], (typeof result.variants)[0]];
      const speedup = one.timing.medianMs / many.timing.medianMs;
      context.metric('wasmMedianMs', round(one.timing.medianMs));
      context.metric('wasmThreadsMedianMs', round(many.timing.medianMs));
      context.metric('speedupVsWasm', round(speedup));
      const figures = `median ${one.timing.medianMs.toFixed(3)} ms on wasm, ${many.timing.medianMs.toFixed(3)} ms on wasm-threads${threads ? ` with ${threads} threads` : ''}, ${describeRuns(result, minSpeedup)}`;
      if (!(speedup >= minSpeedup)) {
        throw new CandidateRejectedError(
          `not faster than single-threaded wasm: ${formatRatio(speedup, minSpeedup)}x, below the required ${minSpeedup}x (${figures})`,
        );
      }
      context.note(`${formatRatio(speedup, minSpeedup)}x faster than single-threaded wasm (${figures})`);
    } finally {
      single.dispose();
    }
  }
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
