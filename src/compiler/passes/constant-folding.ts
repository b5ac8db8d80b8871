import * as tf from '@tensorflow/tfjs';
import type { GraphValue, KernelNode, ValueId } from '../ir.js';
import { rebuild, type GraphPass } from './graph-pass.js';

/**
 * Runs, once at compile time, every kernel whose inputs are all constants, and
 * replaces its outputs with the results. Variables are never folded: they are read
 * at run time so that training updates are seen.
 */
export const constantFolding: GraphPass = {
  name: 'constant-folding',
  description: 'compute constant-only subgraphs once, at compile time',
  run(graph) {
    const values = new Map<ValueId, GraphValue>(graph.values);
    const kept: KernelNode[] = [];
    let folded = 0;
    for (const node of graph.nodes) {
      const ins = Object.entries(node.inputs);
      if (ins.length === 0 || !ins.every(([, v]) => values.get(v)!.kind === 'constant')) {
        kept.push(node);
        continue;
      }
      const args = node.positional
        ? ins.map(([, v]) => values.get(v)!.constant!)
        : Object.fromEntries(ins.map(([k, v]) => [k, values.get(v)!.constant!]));
      const out = tf.tidy(() => {
        const r = tf.engine().runKernel(node.kernel, args as tf.NamedTensorMap, node.attrs as tf.NamedAttrMap);
        return Array.isArray(r) ? r : [r];
      });
      out.forEach((t, i) => {
        const id = node.outputs[i]!;
        values.set(id, { ...values.get(id)!, kind: 'constant', constant: tf.keep(t), producer: undefined });
      });
      folded++;
    }
    return {
      graph: rebuild(graph, kept, new Map(), values),
      report: {
        pass: this.name,
        changes: folded,
        detail: folded ? `${folded} kernel(s) folded into constants` : 'no constant-only kernels',
      },
    };
  },
};
