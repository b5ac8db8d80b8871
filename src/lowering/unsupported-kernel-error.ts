/**
 * A kernel of the traced graph that the ONNX lowering cannot express: no mapping for
 * the kernel at all, or one for attributes or inputs it does not handle. The message
 * names the kernel (and the user's layer, when the trace knows it), so that it can
 * stand as a plugin's `unavailable` reason or a CLI error as it is.
 */
export class UnsupportedKernelError extends Error {
  constructor(
    /** The tf.js kernel name (`Conv3D`). */
    readonly kernel: string,
    /** Why, when the kernel has a mapping that does not cover this use of it. */
    readonly detail: string | undefined,
    /** The layer that ran the kernel, where the trace knows it. */
    readonly layer?: string,
  ) {
    super(`kernel ${kernel}${layer ? ` (layer ${layer})` : ''} cannot be lowered to ONNX: ${detail ?? 'Kiln has no ONNX mapping for it'}`);
    this.name = 'UnsupportedKernelError';
  }
}
