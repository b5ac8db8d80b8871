import * as tf from '@tensorflow/tfjs';
import type { KernelLowering } from '../kernel-lowering.js';
import { permuteShape } from '../layout.js';

/** ONNX Slice's end for a step < 0 that runs past index 0. */
const BEFORE_START = -(2 ** 31);

/**
 * Slice (begin and the traced output size) in the layout of its input; StridedSlice as
 * tf.js's own cpu kernel computes it (slice_util.sliceInfo: dense begin, end and strides
 * per input axis), an ONNX Slice then a Reshape to the final shape
 * (new and shrunk axes), in the tf.js layout.
 */
export const sliceLowering: KernelLowering = {
  kernels: ['Slice', 'StridedSlice'],
  lower(node, context) {
    const x = node.inputs.x!;
    const out = node.outputs[0]!;
    const xShape = context.shape(x);
    const rank = xShape.length;
    if (node.kernel === 'Slice') {
      const begin = (node.attrs.begin as number[] | number) ?? 0;
      const starts = Array.isArray(begin)
        ? [...begin, ...new Array<number>(rank - begin.length).fill(0)]
        : [begin, ...new Array<number>(rank - 1).fill(0)];
      const size = context.shape(out);
      const { name, perm } = context.get(x);
      const s = permuteShape(starts, perm);
      const e = permuteShape(
        starts.map((b, i) => b + size[i]!),
        perm,
      );
      context.emitFor(out, 'Slice', [name, context.int64(s), context.int64(e), context.int64(s.map((_, i) => i))], [], perm);
      return;
    }
    const a = node.attrs as Record<string, number & number[]>;
    const info = tf.slice_util.sliceInfo(
      [...xShape],
      a.begin,
      a.end,
      a.strides,
      a.beginMask,
      a.endMask,
      a.ellipsisMask,
      a.newAxisMask,
      a.shrinkAxisMask,
    );
    if (info.isIdentity) {
      context.emitFor(out, 'Reshape', [context.inLayout(x, undefined), context.int64(context.shape(out))]);
      return;
    }
    const starts = info.begin.slice(0, rank);
    const steps = info.strides.slice(0, rank);
    // the dense size along each input axis (finalShapeSparse leaves out shrunk axes)
    const sizes = tf.slice_util.computeOutShape(starts, info.end.slice(0, rank), steps);
    const ends = starts.map((b, i) => {
      const end = b + sizes[i]! * steps[i]!;
      return steps[i]! < 0 && end < 0 ? BEFORE_START : end;
    });
    const sliced = context.emit('Slice', [
      context.inLayout(x, undefined),
      context.int64(starts),
      context.int64(ends),
      context.int64(starts.map((_, i) => i)),
      context.int64(steps),
    ])[0]!;
    context.emitFor(out, 'Reshape', [sliced, context.int64(context.shape(out))]);
  },
};
