import type { KernelNode } from '../../../../compiler/ir.js';
import type { FusionPattern, FusionSite } from '../fusion-pattern.js';

/** Reshape of a Reshape (the inner one used nowhere else) becomes one Reshape to the final shape. */
export const collapseReshape: FusionPattern = {
  name: 'collapse-reshape',
  description: 'one Reshape instead of a chain of Reshapes',
  trainingSafe: true,
  match(graph, _context, tools) {
    const sites: FusionSite[] = [];
    for (const inner of graph.nodes) {
      if (inner.kernel !== 'Reshape') continue;
      const outer = tools.soleConsumer(inner.outputs[0]!);
      if (!outer || outer.kernel !== 'Reshape') continue;
      const replacement: KernelNode = { ...inner, inputs: { x: inner.inputs.x! }, attrs: { shape: [...tools.value(outer.outputs[0]!).shape] }, outputs: outer.outputs };
      sites.push({ pattern: this.name, key: `${this.name}@${inner.id}+${outer.id}`, anchor: inner.id, removes: [inner.id, outer.id], replacement, newValues: [], layers: [inner.layer, outer.layer].filter((l): l is string => !!l) });
    }
    return sites;
  },
};
