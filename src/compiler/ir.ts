import * as tf from '@tensorflow/tfjs';

const tfRef = tf;

/** Index of a value (a tensor) in a kernel graph. */
export type ValueId = number;

/** Where a graph value comes from. */
export type ValueKind =
  /** The i-th argument of the traced call. */
  | 'input'
  /** A tf.Variable, read at run time so that training updates are seen. */
  | 'variable'
  /** A tensor fixed at compile time (captured, created without a kernel, or folded). */
  | 'constant'
  /** Computed at compile time from variables or constants (e.g. BatchNorm folded into a conv filter); recomputed when a source variable changes. */
  | 'folded'
  /** The output of a kernel node. */
  | 'intermediate';

export interface GraphValue {
  readonly id: ValueId;
  readonly kind: ValueKind;
  readonly shape: readonly number[];
  readonly dtype: tf.DataType;
  /** For inputs: the argument position. */
  readonly inputIndex?: number;
  /** For variables: the live variable. */
  readonly variable?: tf.Variable;
  /** For constants: the tensor, kept alive by the graph (freed by `disposeGraph`). */
  readonly constant?: tf.Tensor;
  /** For folded values: the computation and its cached result. */
  readonly folded?: FoldedValue;
  /** For intermediates: the node that produces it. */
  readonly producer?: number;
}

/**
 * A value computed from other tensors (variables or constants) once, and again only
 * when a source variable has been assigned since: `Variable.assign` gives the
 * variable a new data id, which is what `current()` compares. So folded weights
 * follow training updates without a recompile, and cost nothing per call otherwise.
 */
export class FoldedValue {
  private tensor: tf.Tensor | undefined;
  private seen: readonly object[] = [];
  /** How many times the value was computed (1 after the first use). */
  computations = 0;

  constructor(
    readonly sources: readonly tf.Tensor[],
    private readonly compute: (sources: readonly tf.Tensor[]) => tf.Tensor,
    /** What it is, for explain: "stem_conv filter x stem_bn scale". */
    readonly description: string,
  ) {}

  current(): tf.Tensor {
    if (!this.tensor || this.sources.some((s, i) => s.dataId !== this.seen[i])) {
      this.tensor?.dispose();
      this.tensor = tfRef.keep(tfRef.tidy(() => this.compute(this.sources)));
      this.seen = this.sources.map((s) => s.dataId);
      this.computations++;
    }
    return this.tensor;
  }

  dispose(): void {
    this.tensor?.dispose();
    this.tensor = undefined;
  }
}

/** One recorded `engine.runKernel(kernel, inputs, attrs)` call. */
export interface KernelNode {
  readonly id: number;
  readonly kernel: string;
  /**
   * Named inputs (`{x, filter, bias}`), or positional ones for kernels that take a
   * list (Concat, AddN, Pack): then `names` are "0", "1", ... and `positional` is set.
   * Absent inputs (tf.layers passes `bias: undefined`) are left out.
   */
  readonly inputs: Readonly<Record<string, ValueId>>;
  readonly positional: boolean;
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly outputs: readonly ValueId[];
  /** Whether the kernel returned a list (even of one) rather than a single tensor. */
  readonly returnsList: boolean;
  /** The user's layer that ran this kernel, where the traced model has layers. */
  readonly layer?: string;
}

/** A traced call: kernels in execution order over typed values. */
export interface KernelGraph {
  readonly values: ReadonlyMap<ValueId, GraphValue>;
  readonly nodes: readonly KernelNode[];
  readonly inputs: readonly ValueId[];
  readonly outputs: readonly ValueId[];
  /** Whether the traced function returned a list rather than one tensor. */
  readonly outputIsList: boolean;
  /**
   * Per output, what the traced call returned without making it (one of its inputs, a
   * variable, a tensor it captured): every call hands back that same tensor, as eager
   * does, so a caller who never disposes what eager gives back leaks nothing. Unset for
   * outputs the call made (those are fresh tensors on each call, the caller's to free).
   */
  readonly returned?: readonly (ReturnedSource | undefined)[];
}

/** The tensor a traced call returned as it was: the `input`-th argument of each call, or that very `tensor` (a variable, a captured tensor). */
export type ReturnedSource = { readonly input: number } | { readonly tensor: tf.Tensor };

/** What output `k` of a call on `inputs` is when the traced call returned a tensor it did not make; otherwise undefined. */
export function returnedTensor(graph: KernelGraph, k: number, inputs: readonly tf.Tensor[]): tf.Tensor | undefined {
  const source = graph.returned?.[k];
  if (!source) return undefined;
  return 'input' in source ? inputs[source.input] : source.tensor;
}

/** Frees the outputs of one run of `graph` that the run made, never a returned input, variable or captured tensor. */
export function disposeFreshOutputs(graph: KernelGraph, outputs: readonly tf.Tensor[]): void {
  outputs.forEach((t, k) => {
    if (!graph.returned?.[k] && !t.isDisposed) t.dispose();
  });
}

/** Frees the constants and folded values a graph holds. */
export function disposeGraphConstants(graph: KernelGraph): void {
  for (const v of graph.values.values()) {
    if (v.kind === 'constant' && v.constant && !v.constant.isDisposed) v.constant.dispose();
    v.folded?.dispose();
  }
}

/** The tensor a non-intermediate value holds now (folded values computed on demand). */
export function valueTensor(v: GraphValue, inputs: readonly tf.Tensor[]): tf.Tensor | undefined {
  switch (v.kind) {
    case 'input':
      return inputs[v.inputIndex!];
    case 'variable':
      return v.variable;
    case 'constant':
      return v.constant;
    case 'folded':
      return v.folded!.current();
    default:
      return undefined;
  }
}

/** Kernels the graph runs, counted by name (for reports). */
export function countKernels(graph: KernelGraph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of graph.nodes) counts[n.kernel] = (counts[n.kernel] ?? 0) + 1;
  return counts;
}
