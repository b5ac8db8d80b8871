import type { KernelLowering } from '../kernel-lowering.js';
import { permuteShape } from '../layout.js';

/** Tile, in the layout of the input (the repeats mapped to it). */
export const tileLowering: KernelLowering = {
  kernels: ['Tile'],
  lower(node, context) {
    const x = node.inputs.x!;
    const { name, perm } = context.get(x);
    const reps = permuteShape(node.attrs.reps as number[], perm);
    context.emitFor(node.outputs[0]!, 'Tile', [name, context.int64(reps)], [], perm);
  },
};
