import type { KernelGraph, ValueId } from '../ir.js';

/**
 * When each intermediate can be freed: `freeAfter[i]` lists the intermediates whose
 * last use is node i (or that node i produces and nothing uses). Graph outputs,
 * inputs, variables and constants are never freed by the executor.
 */
export interface MemoryPlan {
  readonly freeAfter: readonly (readonly ValueId[])[];
  /** Most intermediates alive at once with the plan, and without it (all kept to the end). */
  readonly peakLive: number;
  readonly peakLiveWithoutPlan: number;
}

export function planMemory(graph: KernelGraph): MemoryPlan {
  const outputs = new Set(graph.outputs);
  const lastUse = new Map<ValueId, number>();
  graph.nodes.forEach((node, i) => {
    for (const v of node.outputs) lastUse.set(v, i);
    for (const v of Object.values(node.inputs)) if (graph.values.get(v)!.kind === 'intermediate') lastUse.set(v, i);
  });
  const freeAfter: ValueId[][] = graph.nodes.map(() => []);
  for (const [v, i] of lastUse) if (!outputs.has(v) && graph.values.get(v)!.kind === 'intermediate') freeAfter[i]!.push(v);
  let live = 0;
  let peakLive = 0;
  let total = 0;
  graph.nodes.forEach((node, i) => {
    live += node.outputs.length;
    total += node.outputs.length;
    peakLive = Math.max(peakLive, live);
    live -= freeAfter[i]!.length;
  });
  return { freeAfter, peakLive, peakLiveWithoutPlan: total };
}
