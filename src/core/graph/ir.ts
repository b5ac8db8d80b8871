import type * as tf from '@tensorflow/tfjs';

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
  /** For intermediates: the node that produces it. */
  readonly producer?: number;
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
}

/** Frees the constants a graph holds. */
export function disposeGraphConstants(graph: KernelGraph): void {
  for (const v of graph.values.values()) if (v.kind === 'constant' && v.constant && !v.constant.isDisposed) v.constant.dispose();
}

/** Kernels the graph runs, counted by name (for reports). */
export function countKernels(graph: KernelGraph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of graph.nodes) counts[n.kernel] = (counts[n.kernel] ?? 0) + 1;
  return counts;
}
