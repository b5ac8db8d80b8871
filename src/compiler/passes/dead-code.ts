import type { KernelNode, ValueId } from '../ir.js';
import { rebuild, type GraphPass } from './graph-pass.js';

/** Removes kernels none of whose outputs reach a graph output. */
export const deadCode: GraphPass = {
  name: 'dead-code',
  description: 'drop kernels whose results are never used',
  run(graph) {
    const live = new Set<ValueId>(graph.outputs);
    const kept: KernelNode[] = [];
    for (let i = graph.nodes.length - 1; i >= 0; i--) {
      const node = graph.nodes[i]!;
      if (!node.outputs.some((o) => live.has(o))) continue;
      kept.push(node);
      for (const v of Object.values(node.inputs)) live.add(v);
    }
    kept.reverse();
    const changes = graph.nodes.length - kept.length;
    return {
      graph: rebuild(graph, kept),
      report: { pass: this.name, changes, detail: changes ? `${changes} unused kernel(s) removed` : 'no unused kernels' },
    };
  },
};
