/**
 * The contract of a layer rewrite rule. A rule names the layers it anchors on (every
 * BatchNormalization, every Activation, ...); for each anchor still in the graph the
 * orchestrator asks it for a verdict against the current graph: either a plan, whose
 * `apply` edits the graph and weights (everything is computed before `apply` is
 * returned, so a plan applies completely or the graph is untouched), or a reason the
 * anchor matched but cannot be rewritten.
 */
import type { GraphLayer, LayerGraph } from './layer-graph.js';
import type { WeightStore } from './weight-store.js';

export interface RewriteContext {
  readonly graph: LayerGraph;
  readonly weights: WeightStore;
  /** Rank of the (single) input of layer `name` in the source model, when known. */
  readonly inputRankOf: (name: string) => number | undefined;
}

export type RuleVerdict =
  /** Preconditions hold: `apply()` performs the rewrite. `layers`: user layer names involved. */
  | { readonly kind: 'rewrite'; readonly layers: readonly string[]; readonly apply: () => void }
  /** The anchor matched but a precondition failed. */
  | { readonly kind: 'skip'; readonly layers: readonly string[]; readonly reason: string };

export interface LayerRewriteRule {
  /** The name used in reports and in `disabled`. */
  readonly name: string;
  /** One line for reports and docs. */
  readonly description: string;
  /**
   * Whether a rewrite computes new weight values (folding one layer's weights into
   * another's), rather than only moving weights or changing configs.
   */
  readonly computesWeights: boolean;
  /** Whether `layer` is a layer this rule tries to rewrite. */
  isAnchor(layer: GraphLayer): boolean;
  /** The verdict for anchor `anchor` on the current graph. */
  check(anchor: GraphLayer, context: RewriteContext): RuleVerdict;
}
