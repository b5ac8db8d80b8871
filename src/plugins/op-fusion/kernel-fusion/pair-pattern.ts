import type { GraphValue, KernelNode, ValueId } from '../../../compiler/ir.js';
import type { FusionContext, FusionPattern, FusionSite, GraphTools } from './fusion-pattern.js';

/** What a pair pattern makes of a node and its consumer: the new node's own parts. */
export interface PairRewrite {
  /** Default: the first node's kernel. */
  readonly kernel?: string;
  /** Default: the first node's inputs. */
  readonly inputs?: Readonly<Record<string, ValueId>>;
  readonly attrs: Readonly<Record<string, unknown>>;
  /** Default: the first node's. */
  readonly positional?: boolean;
  /** Values the new node needs that the graph does not have yet (e.g. folded weights). Default none. */
  readonly newValues?: readonly GraphValue[];
}

/** A {@link FusionPattern} that fuses a node with the sole consumer of its output, described by what is its own. */
export interface PairPatternSpec {
  readonly name: string;
  readonly description: string;
  readonly trainingSafe: boolean;
  /** Kernels the first node may run. */
  readonly first: readonly string[];
  /** Kernels its consumer may run (any, when absent). */
  readonly then?: readonly string[];
  /**
   * How the site's key names it: `anchor` is `<name>@<first id>` (the first node hosts one
   * rewrite), `chain` is `<name>@<first id>+<consumer id>` (the first node can host several in
   * turn, as a chain collapses or a fused kernel absorbs an activation after a fold).
   */
  readonly key: 'anchor' | 'chain';
  /** The rewrite of `first` followed by `next`, or undefined where the pattern's other preconditions do not hold. */
  rewrite(first: KernelNode, next: KernelNode, context: FusionContext, tools: GraphTools): PairRewrite | undefined;
}

/**
 * The skeleton of Kiln's kernel fusion patterns: every node running one of `first`
 * whose output has a sole consumer running one of `then` (and is no graph output) is
 * a candidate; where `rewrite` accepts it, one node replaces the two. That node
 * keeps the first node's id (the site's anchor) and layer, and produces the
 * consumer's outputs; the site removes both and names both layers.
 */
export function pairPattern(spec: PairPatternSpec): FusionPattern {
  const first = new Set(spec.first);
  const then = spec.then && new Set(spec.then);
  return {
    name: spec.name,
    description: spec.description,
    trainingSafe: spec.trainingSafe,
    match(graph, context, tools) {
      const sites: FusionSite[] = [];
      for (const node of graph.nodes) {
        if (!first.has(node.kernel)) continue;
        const next = tools.soleConsumer(node.outputs[0]!);
        if (!next || (then && !then.has(next.kernel))) continue;
        const rewrite = spec.rewrite(node, next, context, tools);
        if (rewrite) sites.push(pairSite(spec, node, next, rewrite));
      }
      return sites;
    },
  };
}

function pairSite(spec: PairPatternSpec, node: KernelNode, next: KernelNode, rewrite: PairRewrite): FusionSite {
  const { newValues = [], ...own } = rewrite;
  const replacement: KernelNode = { ...node, ...own, outputs: next.outputs, returnsList: next.returnsList };
  const key = spec.key === 'anchor' ? `${spec.name}@${node.id}` : `${spec.name}@${node.id}+${next.id}`;
  const layers = [node.layer, next.layer].filter((l): l is string => !!l);
  return { pattern: spec.name, key, anchor: node.id, removes: [node.id, next.id], replacement, newValues, layers };
}
