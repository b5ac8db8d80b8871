import type { KilnMode } from '../../../core/plugin.js';
import type { GraphValue, KernelGraph, KernelNode, ValueId } from '../../../compiler/ir.js';

/** What a pattern may look at besides the graph. */
export interface FusionContext {
  readonly mode: KilnMode;
  /** Backend the graph will run on: a pattern only emits kernels (and activations) it has. */
  readonly backend: string;
}

/**
 * One place a pattern applies: the nodes it replaces by one. `anchor` is the node
 * whose id the replacement keeps, so a site's key stays the same across runs of the
 * same trace (bisection relies on that).
 */
export interface FusionSite {
  readonly pattern: string;
  /** `<pattern>@<anchor node id>`, plus `+<id>` of the other nodes where the anchor can host more than one rewrite (a chain); unique per rewrite, as the pass applies a key once. */
  readonly key: string;
  readonly anchor: number;
  /** Ids of every node the rewrite removes (the anchor included). */
  readonly removes: readonly number[];
  /** The node that takes the anchor's place; it produces the last removed node's outputs. */
  readonly replacement: KernelNode;
  /** Values the replacement needs that the graph does not have yet (e.g. folded weights). */
  readonly newValues: readonly GraphValue[];
  /** The user's layers involved, for reports. */
  readonly layers: readonly string[];
}

/**
 * A named rewrite of the kernel graph: `match` finds sites on a graph (its
 * preconditions checked there) and describes each rewrite; the fusion pass applies
 * them. Third-party plugins add patterns by registering them under `FUSION_PATTERN`.
 */
export interface FusionPattern {
  readonly name: string;
  readonly description: string;
  /** Keeps gradients exact, so it also runs in training mode (BatchNorm folding does not). */
  readonly trainingSafe: boolean;
  match(graph: KernelGraph, context: FusionContext, tools: GraphTools): FusionSite[];
}

/** Read-only helpers over a graph, built once per match. */
export class GraphTools {
  private readonly consumers = new Map<ValueId, number[]>();
  private readonly outputs: ReadonlySet<ValueId>;
  private readonly byId = new Map<number, KernelNode>();
  private nextValue: number;
  private readonly nextNodeBase: number;

  constructor(readonly graph: KernelGraph) {
    for (const n of graph.nodes) {
      this.byId.set(n.id, n);
      for (const v of Object.values(n.inputs)) {
        const list = this.consumers.get(v) ?? [];
        list.push(n.id);
        this.consumers.set(v, list);
      }
    }
    this.outputs = new Set(graph.outputs);
    this.nextValue = Math.max(-1, ...graph.values.keys()) + 1;
    this.nextNodeBase = Math.max(-1, ...graph.nodes.map((n) => n.id)) + 1;
  }

  node(id: number): KernelNode | undefined {
    return this.byId.get(id);
  }

  value(id: ValueId): GraphValue {
    return this.graph.values.get(id)!;
  }

  /** The single node that consumes `value`, when it has exactly one and is not a graph output. */
  soleConsumer(value: ValueId): KernelNode | undefined {
    if (this.outputs.has(value)) return undefined;
    const list = this.consumers.get(value);
    return list && list.length === 1 ? this.byId.get(list[0]!) : undefined;
  }

  /** Whether `value` is a variable or a constant: something a fold can be computed from. */
  isWeight(value: ValueId | undefined): boolean {
    if (value === undefined) return false;
    const kind = this.value(value).kind;
    return kind === 'variable' || kind === 'constant';
  }

  /** The tensor behind a weight value (the live variable, or the constant). */
  weightSource(value: ValueId): import('@tensorflow/tfjs').Tensor {
    const v = this.value(value);
    if (v.kind === 'variable') return v.variable!;
    if (v.kind === 'constant') return v.constant!;
    throw new Error(`value ${value} is not a weight`);
  }

  /** A fresh value id for a new value (distinct across calls on this tools object). */
  newValueId(): ValueId {
    return this.nextValue++;
  }

  /** Ids for new nodes, above every existing id. */
  get nodeIdBase(): number {
    return this.nextNodeBase;
  }
}
