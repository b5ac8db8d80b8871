import type { KernelNode } from '../compiler/ir.js';
import type { LoweringContext } from './lowering-context.js';

/**
 * How a family of tf.js kernels becomes ONNX nodes. `lower` defines every output of
 * the node in the context (see `LoweringContext.define`), in whatever layout suits the
 * ONNX ops, and throws `context.unsupported(node, why)` for attributes or inputs it
 * does not cover.
 */
export interface KernelLowering {
  /** The tf.js kernel names it lowers. */
  readonly kernels: readonly string[];
  lower(node: KernelNode, context: LoweringContext): void;
}
