import type { KernelGraph, KernelNode, ValueId } from '../ir.js';
import { rebuild, type GraphPass } from './graph-pass.js';

/**
 * Removes kernels that return their input unchanged: Identity, Reshape to the same
 * shape, Cast to the same dtype, and Slice over the whole input (model.predict slices
 * its batch even when there is one batch).
 */
export const noopRemoval: GraphPass = {
  name: 'noop-removal',
  description: 'drop Identity, same-shape Reshape, same-dtype Cast and whole-tensor Slice',
  run(graph) {
    const alias = new Map<ValueId, ValueId>();
    const kept: KernelNode[] = [];
    const removed: Record<string, number> = {};
    for (const node of graph.nodes) {
      const source = passThroughInput(graph, node);
      if (source === undefined) {
        kept.push(node);
        continue;
      }
      alias.set(node.outputs[0]!, source);
      removed[node.kernel] = (removed[node.kernel] ?? 0) + 1;
    }
    const changes = graph.nodes.length - kept.length;
    const detail = changes
      ? Object.entries(removed)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ') + ' removed'
      : 'nothing to remove';
    return { graph: rebuild(graph, kept, alias), report: { pass: this.name, changes, detail } };
  },
};

function passThroughInput(graph: KernelGraph, node: KernelNode): ValueId | undefined {
  if (node.outputs.length !== 1) return undefined;
  const inputIds = Object.values(node.inputs);
  const x = node.inputs.x ?? inputIds[0];
  if (x === undefined) return undefined;
  const input = graph.values.get(x)!;
  const output = graph.values.get(node.outputs[0]!)!;
  const sameShape = input.shape.length === output.shape.length && input.shape.every((d, i) => d === output.shape[i]);
  if (!sameShape || input.dtype !== output.dtype) return undefined;
  switch (node.kernel) {
    case 'Identity':
    case 'Reshape':
    case 'Cast':
      return x;
    case 'Slice': {
      const begin = node.attrs.begin as number[] | number | undefined;
      const begins = Array.isArray(begin) ? begin : [begin ?? 0];
      return begins.every((b) => b === 0) ? x : undefined;
    }
    default:
      return undefined;
  }
}
