import type { KernelNode } from '../../../../compiler/ir.js';
import type { FusionPattern, FusionSite } from '../fusion-pattern.js';

/**
 * Transpose of a Transpose (the inner one used nowhere else) becomes one Transpose
 * with the composed permutation, or an Identity when they cancel (which no-op removal
 * then drops on the next compile pass).
 */
export const collapseTranspose: FusionPattern = {
  name: 'collapse-transpose',
  description: 'one Transpose (or none) instead of a chain of Transposes',
  trainingSafe: true,
  match(graph, _context, tools) {
    const sites: FusionSite[] = [];
    for (const inner of graph.nodes) {
      if (inner.kernel !== 'Transpose') continue;
      const outer = tools.soleConsumer(inner.outputs[0]!);
      if (!outer || outer.kernel !== 'Transpose') continue;
      const p1 = inner.attrs.perm as number[];
      const p2 = outer.attrs.perm as number[];
      const perm = p2.map((axis) => p1[axis]!);
      const identity = perm.every((axis, i) => axis === i);
      const replacement: KernelNode = identity
        ? { ...inner, kernel: 'Identity', inputs: { x: inner.inputs.x! }, attrs: {}, outputs: outer.outputs }
        : { ...inner, attrs: { perm }, outputs: outer.outputs };
      sites.push({ pattern: this.name, key: `${this.name}@${inner.id}+${outer.id}`, anchor: inner.id, removes: [inner.id, outer.id], replacement, newValues: [], layers: [inner.layer, outer.layer].filter((l): l is string => !!l) });
    }
    return sites;
  },
};
