import type * as tf from '@tensorflow/tfjs';
import type { KilnMode } from '../core/plugin.js';
import type { DirectExecutor } from './executors/direct-executor.js';
import type { ReplayExecutor } from './executors/replay-executor.js';
import { countKernels, disposeGraphConstants, type KernelGraph } from './ir.js';
import type { MemoryPlan } from './passes/memory-plan.js';
import type { PassReport } from './passes/graph-pass.js';

/** Figures of one compiled signature, for reports and `explain`. */
export interface PlanStats {
  readonly signature: string;
  readonly kernelsTraced: number;
  readonly kernelsAfterPasses: number;
  readonly passes: readonly PassReport[];
  readonly peakLiveIntermediates?: { readonly withPlan: number; readonly withoutPlan: number };
  /** Trace, passes and executor set-up, in ms (includes the one real call the trace makes). */
  readonly compileMs: number;
  /** Executor used for inference calls outside a gradient tape. */
  readonly executor: 'replay' | 'direct';
  /** Why that executor (measured medians, or why direct was not possible). */
  readonly executorReason: string;
  /** Median per-call ms of the eager function and of the compiled call, where measured. */
  readonly eagerMs?: number;
  readonly compiledMs?: number;
  /** Calls needed for the compile time to pay for itself (Infinity: never). */
  readonly breakEvenCalls?: number;
}

/** One signature's compiled graph and the executors that run it. */
export class CompiledPlan {
  constructor(
    readonly traced: KernelGraph,
    readonly graph: KernelGraph,
    readonly memory: MemoryPlan | undefined,
    private readonly replay: ReplayExecutor,
    private readonly direct: DirectExecutor | undefined,
    readonly mode: KilnMode,
    public stats: PlanStats,
  ) {}

  /** Runs the graph: direct kernels for inference outside a tape when chosen, replay otherwise. */
  run(inputs: readonly tf.Tensor[], taped: boolean): tf.Tensor[] {
    if (this.direct && !taped && this.stats.executor === 'direct') return this.direct.run(inputs);
    return this.replay.run(inputs);
  }

  runWith(kind: 'replay' | 'direct', inputs: readonly tf.Tensor[]): tf.Tensor[] {
    return kind === 'direct' && this.direct ? this.direct.run(inputs) : this.replay.run(inputs);
  }

  get hasDirect(): boolean {
    return this.direct !== undefined;
  }

  kernelCounts(): Record<string, number> {
    return countKernels(this.graph);
  }

  dispose(): void {
    disposeGraphConstants(this.graph);
    disposeGraphConstants(this.traced);
  }
}
