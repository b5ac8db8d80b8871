import * as tf from '@tensorflow/tfjs';
import type { KilnMode } from '../core/plugin.js';
import { isRecordingGradients } from '../core/tape-state.js';
import { allclose } from '../core/validation/allclose.js';
import { CompiledPlan } from './compiled-plan.js';
import { DirectExecutor } from './executors/direct-executor.js';
import { ReplayExecutor } from './executors/replay-executor.js';
import type { GraphBreak } from './graph-break.js';
import { disposeGraphConstants, type KernelGraph } from './ir.js';
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
  /** `auto` measures replay and direct and keeps the faster; the others force one. */
  readonly executor: 'auto' | 'replay' | 'direct';
  /** Timed calls per candidate when choosing the executor (0: no measurement; replay). */
  readonly selectionRuns: number;
  /** Layers of the traced model, to name kernels after the user's layers. */
  readonly layers?: readonly tf.layers.Layer[];
  /** Passes run after the built-in ones (fusion), followed by another no-op removal and dead-code pass. */
  readonly extraPasses?: readonly GraphPass[];
}

/** `made[i]`: whether the traced call made `outputs[i]` (rather than returning an input, a variable or a tensor it captured). */
export type CompileOutcome =
  | { readonly kind: 'compiled'; readonly plan: CompiledPlan; readonly outputs: tf.Tensor[]; readonly made: readonly boolean[] }
  | { readonly kind: 'break'; readonly breaks: readonly GraphBreak[]; readonly graph: KernelGraph; readonly outputs: tf.Tensor[]; readonly made: readonly boolean[] };

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
 * two), runs the passes, checks that the replay reproduces the traced call's outputs,
 * and picks the executor.
 */
export function compileSignature(fn: (...inputs: tf.Tensor[]) => unknown, inputs: readonly tf.Tensor[], settings: GraphCompileSettings): CompileOutcome {
  const started = performance.now();
  const first = traceCall(fn, inputs, { layers: settings.layers });
  const outputs = asList(first.outputs);
  const createdInCall = new Set(first.createdConstants.map((c) => c.id));
  const made = first.graph.outputs.map((id) => first.graph.values.get(id)!.kind === 'intermediate' || createdInCall.has(id));
  const random = first.graph.nodes.some((n) => STATEFUL_KERNELS.has(n.kernel));
  const breaks = [...first.breaks, ...(first.breaks.length === 0 && (first.createdConstants.length > 0 || random) ? compareWithSecondTrace(fn, inputs, first) : [])];
  if (breaks.length) {
    disposeGraphConstants(first.graph);
    return { kind: 'break', breaks, graph: first.graph, outputs, made };
  }
  const passes = settings.extraPasses?.length ? [...BUILT_IN_PASSES, ...settings.extraPasses, noopRemoval, deadCode] : BUILT_IN_PASSES;
  const { graph, reports } = runPasses(first.graph, { mode: settings.mode }, settings.disabledPasses, passes);
  const memory = settings.disabledPasses.includes('memory-plan') ? undefined : planMemory(graph);
  const backend = tf.getBackend();
  const replay = new ReplayExecutor(graph, memory);
  let direct: DirectExecutor | undefined;
  let directProblem = settings.mode === 'training' ? 'training mode: gradients need the replay' : settings.executor === 'replay' ? 'replay forced by option' : '';
  if (!directProblem) {
    try {
      direct = new DirectExecutor(graph, memory, backend);
    } catch (error) {
      directProblem = error instanceof Error ? error.message : String(error);
    }
  }
  const stats = {
    signature: signatureOf(inputs, backend, settings.mode),
    kernelsTraced: first.graph.nodes.length,
    kernelsAfterPasses: graph.nodes.length,
    passes: [...reports, { pass: 'memory-plan', changes: memory ? memory.peakLiveWithoutPlan - memory.peakLive : 0, detail: memory ? `peak live intermediates ${memory.peakLiveWithoutPlan} -> ${memory.peakLive}` : 'disabled' }],
    peakLiveIntermediates: memory ? { withPlan: memory.peakLive, withoutPlan: memory.peakLiveWithoutPlan } : undefined,
    compileMs: 0,
    executor: 'replay' as 'replay' | 'direct',
    executorReason: directProblem ? `replay (direct not used: ${directProblem})` : 'replay',
  };
  const plan = new CompiledPlan(first.graph, graph, memory, replay, direct, settings.mode, stats);
  const mismatch = checkReplay(plan, inputs, outputs, direct !== undefined);
  if (mismatch) {
    plan.dispose();
    return { kind: 'break', breaks: [{ cause: 'unstable-trace', reason: mismatch }], graph: first.graph, outputs, made };
  }
  stats.compileMs = performance.now() - started;
  // under a gradient tape, timing runs would be recorded on it for nothing: skip them there
  if (settings.selectionRuns > 0 && settings.mode === 'inference' && !isRecordingGradients()) chooseExecutor(plan, fn, inputs, settings, stats);
  else if (direct && settings.executor === 'direct') Object.assign(stats, { executor: 'direct', executorReason: 'direct forced by option' });
  plan.stats = stats;
  return { kind: 'compiled', plan, outputs, made };
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
    if (a !== b) return [{ cause: 'unstable-trace', reason: 'two calls with the same input shapes ran different kernels (control flow that depends on values or on state)' }];
    const seeded = first.graph.nodes.find((n, i) => STATEFUL_KERNELS.has(n.kernel) && JSON.stringify(n.attrs) !== JSON.stringify(second.graph.nodes[i]!.attrs));
    if (seeded) return [{ cause: 'random-values', reason: `kernel ${seeded.kernel} got a different random seed on two calls (e.g. tf.multinomial without a seed); a replay would repeat the same draw` }];
    const differs = first.createdConstants.findIndex((c, i) => {
      const other = second.createdConstants[i];
      return !other || other.values.length !== c.values.length || Array.prototype.some.call(c.values, (v: number, k: number) => !Object.is(v, other.values[k]));
    });
    if (differs >= 0 || second.createdConstants.length !== first.createdConstants.length) {
      const shape = first.graph.values.get(first.createdConstants[Math.max(differs, 0)]!.id)!.shape;
      return [{ cause: 'random-values', reason: `a tensor of shape [${shape.join(', ')}] created without a kernel holds different values on two calls (random values, e.g. a dropout mask in training); a replay would freeze them` }];
    }
    return [];
  } finally {
    disposeGraphConstants(second.graph);
  }
}

/** The replay (and direct) outputs against the traced call's, to within float rounding. */
function checkReplay(plan: CompiledPlan, inputs: readonly tf.Tensor[], expected: tf.Tensor[], withDirect: boolean): string | undefined {
  for (const kind of withDirect ? (['replay', 'direct'] as const) : (['replay'] as const)) {
    const got = plan.runWith(kind, inputs);
    try {
      for (let i = 0; i < expected.length; i++) {
        const c = allclose(expected[i]!.dataSync(), got[i]!.dataSync(), 1e-6, 1e-5);
        if (!c.ok) return `the ${kind} does not reproduce the traced call: output ${i} differs by ${c.maxAbsDiff}`;
      }
    } finally {
      tf.dispose(got);
    }
  }
  return undefined;
}

/** Times eager, replay and direct interleaved; keeps the faster executor; records the break-even. */
function chooseExecutor(plan: CompiledPlan, fn: (...inputs: tf.Tensor[]) => unknown, inputs: readonly tf.Tensor[], settings: GraphCompileSettings, stats: { executor: 'replay' | 'direct'; executorReason: string; eagerMs?: number; compiledMs?: number; breakEvenCalls?: number; compileMs: number }): void {
  const subjects: [string, () => unknown][] = [
    ['eager', () => fn(...inputs)],
    ['replay', () => plan.runWith('replay', inputs)],
  ];
  if (plan.hasDirect) subjects.push(['direct', () => plan.runWith('direct', inputs)]);
  const times = subjects.map(() => [] as number[]);
  for (let round = -1; round < settings.selectionRuns; round++) {
    subjects.forEach(([, run], k) => {
      // in a tidy: the eager function may return an input, a variable or a captured tensor, which are not ours to free
      const dt = tf.tidy(() => {
        const t0 = performance.now();
        for (const o of asList(run() as tf.Tensor | tf.Tensor[])) o.dataSync();
        return performance.now() - t0;
      });
      if (round >= 0) times[k]!.push(dt);
    });
  }
  const medians = times.map(median);
  const [eager, replay, direct] = medians as [number, number, number | undefined];
  const useDirect = direct !== undefined && settings.executor !== 'replay' && (settings.executor === 'direct' || direct < replay);
  stats.executor = useDirect ? 'direct' : 'replay';
  const figures = `median eager ${eager.toFixed(3)} ms, replay ${replay.toFixed(3)} ms${direct !== undefined ? `, direct ${direct.toFixed(3)} ms` : ''} over ${settings.selectionRuns} runs`;
  stats.executorReason = `${stats.executor} (${figures})${plan.hasDirect ? '' : `; ${stats.executorReason}`}`;
  stats.eagerMs = eager;
  stats.compiledMs = useDirect ? direct! : replay;
  const saved = eager - stats.compiledMs;
  stats.breakEvenCalls = saved > 0 ? Math.ceil(stats.compileMs / saved) : Infinity;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function asList(out: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(out) ? out : [out];
}
