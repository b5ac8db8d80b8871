import type { KernelNode, ValueId } from '../ir.js';
import { rebuild, type GraphPass } from './graph-pass.js';

/**
 * Kernels whose results differ between two calls with the same inputs: their random
 * seed is an attribute (tf.multinomial without a seed draws one per call).
 */
export const STATEFUL_KERNELS: ReadonlySet<string> = new Set([
  'Multinomial',
  'RandomUniform',
  'RandomNormal',
  'RandomStandardNormal',
  'RandomGamma',
  'RandomUniformInt',
]);

/** Merges kernels that compute the same thing: same kernel, same inputs, same attributes. */
export const commonSubexpressions: GraphPass = {
  name: 'cse',
  description: 'merge kernels with the same inputs and attributes',
  run(graph) {
    const seen = new Map<string, KernelNode>();
    const alias = new Map<ValueId, ValueId>();
    const kept: KernelNode[] = [];
    const resolve = (v: ValueId) => alias.get(v) ?? v;
    for (const node of graph.nodes) {
      const inputs = Object.fromEntries(Object.entries(node.inputs).map(([k, v]) => [k, resolve(v)]));
      const key = STATEFUL_KERNELS.has(node.kernel) ? undefined : `${node.kernel}|${JSON.stringify(inputs)}|${JSON.stringify(node.attrs)}`;
      const twin = key === undefined ? undefined : seen.get(key);
      if (twin && twin.outputs.length === node.outputs.length) {
        node.outputs.forEach((o, i) => alias.set(o, twin.outputs[i]!));
        continue;
      }
      if (key !== undefined) seen.set(key, node);
      kept.push(node);
    }
    const changes = graph.nodes.length - kept.length;
    return {
      graph: rebuild(graph, kept, alias),
      report: { pass: this.name, changes, detail: changes ? `${changes} duplicate kernel(s) merged` : 'no duplicates' },
    };
  },
};
