import type * as tf from '@tensorflow/tfjs';
import type { GraphValue, KernelGraph, ValueId } from '../ir.js';
import type { MemoryPlan } from '../passes/memory-plan.js';

/**
 * The executors' names, as the keys of this interface. Each executor's file adds
 * its own name (`declare module './executor.js' { interface ExecutorNames { name: true } }`)
 * and the registry (`registry.ts`) registers its definition.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ExecutorNames {}

/** The name of an executor: "replay", "direct", or one an executor's file adds to {@link ExecutorNames}. */
export type ExecutorKind = Extract<keyof ExecutorNames, string>;

/** The `executor` option: `auto` measures the executors and keeps the fastest; a name forces that one. */
export type ExecutorChoice = 'auto' | ExecutorKind;

/**
 * The executor every plan has: it replays through engine.runKernel, so autodiff works,
 * and it runs every call under a gradient tape and every call in training mode. The
 * others run inference calls outside a tape only.
 */
export const REPLAY = 'replay' satisfies ExecutorKind;

/** Runs a kernel graph on concrete inputs; the caller owns the outputs. */
export interface GraphExecutor {
  /** Its registered name: "replay" (through engine.runKernel: autodiff works), "direct" (backend kernels, inference only), ... */
  readonly kind: ExecutorKind;
  run(inputs: readonly tf.Tensor[]): tf.Tensor[];
}

/** What an executor's build may depend on besides the graph. */
export interface ExecutorContext {
  /** The backend the plan was compiled on. */
  readonly backend: string;
}

/** How the compiler builds one kind of executor: what `registerExecutor` takes. */
export interface ExecutorDefinition {
  readonly name: ExecutorKind;
  /** Builds the executor for a compiled graph; throws, the reason as its message, when it cannot run that graph. */
  create(graph: KernelGraph, memory: MemoryPlan | undefined, context: ExecutorContext): GraphExecutor;
}

/** A node prepared for execution: input names and value ids as flat arrays. */
export interface PreparedNode {
  readonly kernel: string;
  readonly names: readonly string[];
  readonly ids: readonly ValueId[];
  readonly positional: boolean;
  readonly attrs: Record<string, unknown>;
  readonly outputs: readonly ValueId[];
  readonly free: readonly ValueId[];
}

/**
 * Flattens nodes for a tight loop. Without a memory plan, every intermediate that is
 * not an output is freed after the last node instead.
 */
export function prepareNodes(graph: KernelGraph, plan: MemoryPlan | undefined): PreparedNode[] {
  const outputs = new Set(graph.outputs);
  const deferred: ValueId[] = [];
  const nodes = graph.nodes.map((n, i) => {
    const entries = Object.entries(n.inputs);
    if (!plan) for (const o of n.outputs) if (!outputs.has(o)) deferred.push(o);
    return {
      kernel: n.kernel,
      names: entries.map(([k]) => k),
      ids: entries.map(([, v]) => v),
      positional: n.positional,
      attrs: n.attrs as Record<string, unknown>,
      outputs: n.outputs,
      free: plan ? plan.freeAfter[i]! : [],
    };
  });
  if (!plan && nodes.length) nodes[nodes.length - 1] = { ...nodes[nodes.length - 1]!, free: deferred };
  return nodes;
}

/**
 * The non-intermediate values (inputs, variables, constants, folded values) that a
 * node or a graph output actually uses: what each call places in its environment.
 * Computed once per executor, so a call does not walk every value of the graph (nor
 * compute a folded value that nothing reads any more).
 */
export function usedSourceValues(graph: KernelGraph): GraphValue[] {
  const used = new Set<ValueId>(graph.outputs);
  for (const n of graph.nodes) for (const v of Object.values(n.inputs)) used.add(v);
  return [...used].map((id) => graph.values.get(id)!).filter((v) => v.kind !== 'intermediate');
}
