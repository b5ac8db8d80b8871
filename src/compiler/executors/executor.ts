import type * as tf from '@tensorflow/tfjs';
import type { GraphValue, KernelGraph, ValueId } from '../ir.js';
import type { MemoryPlan } from '../passes/memory-plan.js';

/** Runs a kernel graph on concrete inputs; the caller owns the outputs. */
export interface GraphExecutor {
  /** "replay" (through engine.runKernel: autodiff works) or "direct" (backend kernels, inference only). */
  readonly kind: 'replay' | 'direct';
  run(inputs: readonly tf.Tensor[]): tf.Tensor[];
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
