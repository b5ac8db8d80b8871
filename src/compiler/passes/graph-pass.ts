import type { KilnMode } from '../../core/plugin.js';
import type { KernelGraph, KernelNode, ValueId } from '../ir.js';

/** What one pass did, for the report and `explain`. */
export interface PassReport {
  readonly pass: string;
  /** Nodes removed, merged or folded (0: the pass found nothing to do). */
  readonly changes: number;
  readonly detail: string;
}

export interface PassContext {
  readonly mode: KilnMode;
}

/** A rewrite of a kernel graph. Passes never mutate their input; they return a new graph. */
export interface GraphPass {
  /** Name used in reports and in `passes.disable`. */
  readonly name: string;
  readonly description: string;
  run(graph: KernelGraph, context: PassContext): { graph: KernelGraph; report: PassReport };
}

/**
 * A graph with `nodes`, where every use of a key of `alias` is replaced by its value
 * (followed transitively). Values stay in the table; unused ones are harmless.
 */
export function rebuild(
  graph: KernelGraph,
  nodes: readonly KernelNode[],
  alias: ReadonlyMap<ValueId, ValueId> = new Map(),
  values = graph.values,
): KernelGraph {
  const follow = (id: ValueId): ValueId => {
    let current = id;
    for (let hops = 0; alias.has(current); hops++) {
      if (hops > alias.size) throw new Error('alias cycle in graph rewrite');
      current = alias.get(current)!;
    }
    return current;
  };
  return {
    values,
    inputs: graph.inputs,
    outputIsList: graph.outputIsList,
    returned: graph.returned,
    outputs: graph.outputs.map(follow),
    nodes: nodes.map((n) =>
      Object.values(n.inputs).some((v) => alias.has(v))
        ? { ...n, inputs: Object.fromEntries(Object.entries(n.inputs).map(([k, v]) => [k, follow(v)])) }
        : n,
    ),
  };
}
