import * as tf from '@tensorflow/tfjs';
import type { KilnMode } from '../core/plugin.js';
import { isRecordingGradients } from '../core/tape-state.js';
import { allclose } from '../core/validation/allclose.js';
import { CompiledPlan } from './compiled-plan.js';
import { REPLAY, type ExecutorChoice, type ExecutorKind, type GraphExecutor } from './executors/executor.js';
import { createExecutor, executorNames } from './executors/registry.js';
import type { GraphBreak } from './graph-break.js';
import { disposeFreshOutputs, disposeGraphConstants, type KernelGraph } from './ir.js';
import type { MemoryPlan } from './passes/memory-plan.js';
import { STATEFUL_KERNELS } from './passes/common-subexpressions.js';
import { BUILT_IN_PASSES, planMemory, runPasses, type GraphPass } from './passes/index.js';
import { deadCode } from './passes/dead-code.js';
import { noopRemoval } from './passes/noop-removal.js';
import { signatureOf } from './signature.js';
import { traceCall, type TraceResult } from './trace.js';

export interface GraphCompileSettings {
  readonly mode: KilnMode;
  /** Pass names to skip (`memory-plan` included). */
  readonly disabledPasses: readonly string[];
  /** `auto` measures the replay and the other registered executors and keeps the fastest; a name forces that one. */
  readonly executor: ExecutorChoice;
  /** Timed calls per candidate when choosing the executor, at most (0: no measurement; replay). */
  readonly selectionRuns: number;
  /**
   * Wall-clock budget of the choice, in ms: after the warm-up round and one timed round,
   * no new round starts once it is spent (default {@link DEFAULT_SELECTION_BUDGET_MS}).
   */
  readonly selectionBudgetMs?: number;
  /** Layers of the traced model, to name kernels after the user's layers. */
  readonly layers?: readonly tf.layers.Layer[];
  /** Passes run after the built-in ones (fusion), followed by another no-op removal and dead-code pass. */
  readonly extraPasses?: readonly GraphPass[];
}

/**
 * Default budget of the executor choice at one signature: a few calls of a model that
 * takes tens of ms (the demo network at batch 32 on wasm) instead of 3 x 6 of them.
 */
export const DEFAULT_SELECTION_BUDGET_MS = 250;

/** `made[i]`: whether the traced call made `outputs[i]` (rather than returning an input, a variable or a tensor it captured). */
export type CompileOutcome =
  | { readonly kind: 'compiled'; readonly plan: CompiledPlan; readonly outputs: tf.Tensor[]; readonly made: readonly boolean[] }
  | {
      readonly kind: 'break';
      readonly breaks: readonly GraphBreak[];
      readonly graph: KernelGraph;
      readonly outputs: tf.Tensor[];
      readonly made: readonly boolean[];
    };

/** Frees the traced call's outputs when nobody will receive them: only those the call made, never the caller's inputs, variables or captured tensors. */
export function disposeCallOutputs(outcome: CompileOutcome): void {
  outcome.outputs.forEach((t, i) => {
    if (outcome.made[i] && !t.isDisposed) t.dispose();
  });
}

/**
 * Compiles one signature of `fn`: traces a real call (whose outputs are returned,
 * so the first call costs no extra run), traces again when the call made tensors
 * without a kernel or ran a random kernel (random values or seeds differ between the
 * two), runs the passes, builds the executors (see `buildExecutors`), checks that
 * each reproduces the traced call's outputs, and picks the one for inference calls.
 */
export function compileSignature(
  fn: (...inputs: tf.Tensor[]) => unknown,
  inputs: readonly tf.Tensor[],
  settings: GraphCompileSettings,
): CompileOutcome {
  const started = performance.now();
  const first = traceCall(fn, inputs, { layers: settings.layers });
  const outputs = asList(first.outputs);
  const made = first.graph.outputs.map((_, k) => first.graph.returned?.[k] === undefined);
  const random = first.graph.nodes.some((n) => STATEFUL_KERNELS.has(n.kernel));
  const breaks = [
    ...first.breaks,
    ...(first.breaks.length === 0 && (first.createdConstants.length > 0 || random) ? compareWithSecondTrace(fn, inputs, first) : []),
  ];
  if (breaks.length) {
    disposeGraphConstants(first.graph);
    return { kind: 'break', breaks, graph: first.graph, outputs, made };
  }
  const passes = settings.extraPasses?.length ? [...BUILT_IN_PASSES, ...settings.extraPasses, noopRemoval, deadCode] : BUILT_IN_PASSES;
  const { graph, reports } = runPasses(first.graph, { mode: settings.mode }, settings.disabledPasses, passes);
  const memory = settings.disabledPasses.includes('memory-plan') ? undefined : planMemory(graph);
  const backend = tf.getBackend();
  const { executors, notUsed } = buildExecutors(graph, memory, backend, settings);
  const stats = {
    signature: signatureOf(inputs, backend, settings.mode),
    kernelsTraced: first.graph.nodes.length,
    kernelsAfterPasses: graph.nodes.length,
    passes: [
      ...reports,
      {
        pass: 'memory-plan',
        changes: memory ? memory.peakLiveWithoutPlan - memory.peakLive : 0,
        detail: memory ? `peak live intermediates ${memory.peakLiveWithoutPlan} -> ${memory.peakLive}` : 'disabled',
      },
    ],
    peakLiveIntermediates: memory ? { withPlan: memory.peakLive, withoutPlan: memory.peakLiveWithoutPlan } : undefined,
    compileMs: 0,
    executor: REPLAY as ExecutorKind,
    executorReason: notUsed.length ? `${REPLAY} (${notUsed.join('; ')})` : REPLAY,
    constantsRead: first.readConstants.length,
  };
  const plan = new CompiledPlan(first.graph, graph, memory, executors, settings.mode, stats, first.readConstants);
  const mismatch = checkReplay(plan, inputs, outputs);
  if (mismatch) {
    plan.dispose();
    return { kind: 'break', breaks: [{ cause: 'unstable-trace', reason: mismatch }], graph: first.graph, outputs, made };
  }
  stats.compileMs = performance.now() - started;
  // under a gradient tape, timing runs would be recorded on it for nothing: skip them there
  if (settings.selectionRuns > 0 && settings.mode === 'inference' && !isRecordingGradients())
    chooseExecutor(plan, fn, inputs, settings, stats);
  else if (settings.executor !== 'auto' && settings.executor !== REPLAY && executors.has(settings.executor))
    Object.assign(stats, { executor: settings.executor, executorReason: `${settings.executor} forced by option` });
  plan.stats = stats;
  return { kind: 'compiled', plan, outputs, made };
}

/** Executor figures that the selection fills in. */
type SelectionStats = {
  executor: ExecutorKind;
  executorReason: string;
  eagerMs?: number;
  compiledMs?: number;
  breakEvenCalls?: number;
  compileMs: number;
};

/**
 * The replay, and the other registered executors that the settings allow and that
 * can run this graph (all of them under `auto`, the one named otherwise; none in
 * training mode, nor when the replay is forced); for each other one not built,
 * "<name> not used: <why>".
 */
function buildExecutors(
  graph: KernelGraph,
  memory: MemoryPlan | undefined,
  backend: string,
  settings: GraphCompileSettings,
): { executors: Map<ExecutorKind, GraphExecutor>; notUsed: string[] } {
  const executors = new Map<ExecutorKind, GraphExecutor>([[REPLAY, createExecutor(REPLAY, graph, memory, { backend })]]);
  const notUsed: string[] = [];
  const candidates =
    settings.executor === 'auto' || settings.executor === REPLAY ? executorNames().filter((n) => n !== REPLAY) : [settings.executor];
  for (const name of candidates) {
    let problem =
      settings.mode === 'training'
        ? 'training mode: gradients need the replay'
        : settings.executor === REPLAY
          ? 'replay forced by option'
          : '';
    if (!problem) {
      try {
        executors.set(name, createExecutor(name, graph, memory, { backend }));
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
    }
    if (problem) notUsed.push(`${name} not used: ${problem}`);
  }
  return { executors, notUsed };
}

/** Same kernels and the same kernel-less tensors on a second call; otherwise the call is not replayable. */
function compareWithSecondTrace(fn: (...inputs: tf.Tensor[]) => unknown, inputs: readonly tf.Tensor[], first: TraceResult): GraphBreak[] {
  // in a tidy: what the second call returns may be an input or a captured tensor, which are not ours to free
  let second!: TraceResult;
  tf.tidy(() => {
    second = traceCall(fn, inputs);
  });
  try {
    const a = first.graph.nodes.map((n) => n.kernel).join(',');
    const b = second.graph.nodes.map((n) => n.kernel).join(',');
    if (a !== b)
      return [
        {
          cause: 'unstable-trace',
          reason: 'two calls with the same input shapes ran different kernels (control flow that depends on values or on state)',
        },
      ];
    const seeded = first.graph.nodes.find(
      (n, i) => STATEFUL_KERNELS.has(n.kernel) && JSON.stringify(n.attrs) !== JSON.stringify(second.graph.nodes[i]!.attrs),
    );
    if (seeded)
      return [
        {
          cause: 'random-values',
          reason: `kernel ${seeded.kernel} got a different random seed on two calls (e.g. tf.multinomial without a seed); a replay would repeat the same draw`,
        },
      ];
    const differs = first.createdConstants.findIndex((c, i) => {
      const other = second.createdConstants[i];
      return (
        !other ||
        other.values.length !== c.values.length ||
        Array.prototype.some.call(c.values, (v: number, k: number) => !Object.is(v, other.values[k]))
      );
    });
    if (differs >= 0 || second.createdConstants.length !== first.createdConstants.length) {
      const shape = first.graph.values.get(first.createdConstants[Math.max(differs, 0)]!.id)!.shape;
      return [
        {
          cause: 'random-values',
          reason: `a tensor of shape [${shape.join(', ')}] created without a kernel holds different values on two calls (random values, e.g. a dropout mask in training); a replay would freeze them`,
        },
      ];
    }
    return [];
  } finally {
    disposeGraphConstants(second.graph);
  }
}

/** Every built executor's outputs (the replay's first) against the traced call's, to within float rounding. */
function checkReplay(plan: CompiledPlan, inputs: readonly tf.Tensor[], expected: tf.Tensor[]): string | undefined {
  for (const kind of plan.executorKinds) {
    const got = plan.runWith(kind, inputs);
    try {
      for (let i = 0; i < expected.length; i++) {
        const c = allclose(expected[i]!.dataSync(), got[i]!.dataSync(), 1e-6, 1e-5);
        if (!c.ok) return `the ${kind} does not reproduce the traced call: output ${i} differs by ${c.maxAbsDiff}`;
      }
    } finally {
      disposeFreshOutputs(plan.graph, got);
    }
  }
  return undefined;
}

/**
 * Times eager and every built executor interleaved; keeps the fastest executor (the
 * replay on a tie; the one named by the option when it was built); records the break-even.
 */
function chooseExecutor(
  plan: CompiledPlan,
  fn: (...inputs: tf.Tensor[]) => unknown,
  inputs: readonly tf.Tensor[],
  settings: GraphCompileSettings,
  stats: SelectionStats,
): void {
  const kinds = plan.executorKinds;
  // No warm-up round: the trace was eager's first call, and the replay check ran every executor once.
  const timed = medianTimes(
    [() => fn(...inputs), ...kinds.map((k) => () => plan.runWith(k, inputs))],
    settings.selectionRuns,
    settings.selectionBudgetMs ?? DEFAULT_SELECTION_BUDGET_MS,
  );
  const [eager, ...compiled] = timed.medians as [number, ...number[]];
  const fastest = compiled.reduce((best, t, k) => (t < compiled[best]! ? k : best), 0);
  const forced = settings.executor !== 'auto' && kinds.includes(settings.executor) ? kinds.indexOf(settings.executor) : undefined;
  const chosen = forced ?? fastest;
  // the reason says why an executor was not built (the unmeasured reason is plain "replay" when all were)
  const notUsed = stats.executorReason === REPLAY ? '' : `; ${stats.executorReason}`;
  stats.executor = kinds[chosen]!;
  const over = timed.runs < settings.selectionRuns ? `${timed.runs} runs (the selection budget ended it)` : `${timed.runs} runs`;
  const figures = `median eager ${eager.toFixed(3)} ms, ${kinds.map((k, i) => `${k} ${compiled[i]!.toFixed(3)} ms`).join(', ')} over ${over}`;
  stats.executorReason = `${stats.executor} (${figures})${notUsed}`;
  stats.eagerMs = eager;
  stats.compiledMs = compiled[chosen]!;
  const saved = eager - stats.compiledMs;
  stats.breakEvenCalls = saved > 0 ? Math.ceil(stats.compileMs / saved) : Infinity;
}

/**
 * Median ms of each subject over interleaved rounds, after `warmupRounds` untimed ones:
 * `runs` timed rounds at most; after the first timed round, no new round starts once
 * `budgetMs` (counted from the start) is spent. The budget bounds what the choice costs
 * on a slow call (a large batch) without a stopping rule of its own: the pipeline
 * benchmarks the compiled model as a whole afterwards.
 */
export function medianTimes(
  subjects: readonly (() => unknown)[],
  runs: number,
  budgetMs: number,
  clock: () => number = () => performance.now(),
  warmupRounds = 0,
): { medians: number[]; runs: number } {
  const times = subjects.map(() => [] as number[]);
  const started = clock();
  let done = 0;
  for (let round = -warmupRounds; round < runs; round++) {
    if (round >= 1 && clock() - started >= budgetMs) break;
    subjects.forEach((run, k) => {
      // in a tidy: the eager function may return an input, a variable or a captured tensor, which are not ours to free
      const dt = tf.tidy(() => {
        const t0 = clock();
        for (const o of asList(run() as tf.Tensor | tf.Tensor[])) o.dataSync();
        return clock() - t0;
      });
      if (round >= 0) times[k]!.push(dt);
    });
    if (round >= 0) done++;
  }
  return { medians: times.map(median), runs: done };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function asList(out: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(out) ? out : [out];
}
