import type * as tf from '@tensorflow/tfjs';
import type { KilnMode } from '../core/plugin.js';
import { REPLAY, type ExecutorKind, type GraphExecutor } from './executors/executor.js';
import { countKernels, disposeGraphConstants, type KernelGraph } from './ir.js';
import type { MemoryPlan } from './passes/memory-plan.js';
import type { PassReport } from './passes/graph-pass.js';
import { staleReadConstant, type ReadConstant } from './trace.js';

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
  readonly executor: ExecutorKind;
  /** Why that executor (measured medians, or why the others were not used). */
  readonly executorReason: string;
  /** Median per-call ms of the eager function and of the compiled call, where measured. */
  readonly eagerMs?: number;
  readonly compiledMs?: number;
  /** Calls needed for the compile time to pay for itself (Infinity: never). */
  readonly breakEvenCalls?: number;
  /** Tensors from before the trace whose values it read and baked in (a GraphModel's constant axes, shapes, paddings...): the plan is dropped and recompiled when one is disposed. */
  readonly constantsRead?: number;
}

/** One signature's compiled graph and the executors that run it. */
export class CompiledPlan {
  private readonly replay: GraphExecutor;

  /** `executors`: those built for this graph, by name; the replay among them. */
  constructor(
    readonly traced: KernelGraph,
    readonly graph: KernelGraph,
    readonly memory: MemoryPlan | undefined,
    private readonly executors: ReadonlyMap<ExecutorKind, GraphExecutor>,
    readonly mode: KilnMode,
    public stats: PlanStats,
    /** Tensors from before the trace whose values it read (see `TraceResult.readConstants`): what `stale()` checks. */
    readonly readConstants: readonly ReadConstant[] = [],
  ) {
    const replay = executors.get(REPLAY);
    if (!replay) throw new Error('a compiled plan needs the replay executor');
    this.replay = replay;
  }

  /**
   * Why the plan no longer holds, or undefined: a tensor whose value the trace read
   * and baked in (an attribute, a branch taken) was disposed or holds other data since.
   * Cheap: a disposed flag and a data id compared per such tensor, nothing allocated.
   */
  stale(): string | undefined {
    return this.readConstants.length ? staleReadConstant(this.readConstants) : undefined;
  }

  /** Runs the graph: the chosen executor for inference outside a tape, the replay under a tape. */
  run(inputs: readonly tf.Tensor[], taped: boolean): tf.Tensor[] {
    const chosen = taped ? this.replay : (this.executors.get(this.stats.executor) ?? this.replay);
    return chosen.run(inputs);
  }

  /** Runs the graph with the executor `kind`, or with the replay when that one was not built. */
  runWith(kind: ExecutorKind, inputs: readonly tf.Tensor[]): tf.Tensor[] {
    return (this.executors.get(kind) ?? this.replay).run(inputs);
  }

  /** The executors built for this graph, the replay first. */
  get executorKinds(): ExecutorKind[] {
    return [...this.executors.keys()];
  }

  get hasDirect(): boolean {
    return this.executors.has('direct');
  }

  kernelCounts(): Record<string, number> {
    return countKernels(this.graph);
  }

  dispose(): void {
    disposeGraphConstants(this.graph);
    disposeGraphConstants(this.traced);
  }
}
