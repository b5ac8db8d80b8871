import type { KernelLowering } from '../kernel-lowering.js';
import { permuteShape } from '../layout.js';
import { attr } from '../onnx-attributes.js';

/** PadV2 (constant) and MirrorPad (reflect; symmetric has no ONNX mode) as ONNX Pad, in the layout of the input. */
export const padLowering: KernelLowering = {
  kernels: ['PadV2', 'Pad', 'MirrorPad'],
  lower(node, context) {
    const x = node.inputs.x!;
    const out = node.outputs[0]!;
    const paddings = node.attrs.paddings as [number, number][];
    const { name, perm } = context.get(x);
    const before = permuteShape(
      paddings.map((p) => p[0]),
      perm,
    );
    const after = permuteShape(
      paddings.map((p) => p[1]),
      perm,
    );
    const pads = context.int64([...before, ...after]);
    if (node.kernel === 'MirrorPad') {
      const mode = String(node.attrs.mode ?? 'reflect');
      if (mode !== 'reflect') throw context.unsupported(node, `mirror mode "${mode}" (ONNX Pad has reflect and edge only)`);
      context.emitFor(out, 'Pad', [name, pads], [attr.string('mode', 'reflect')], perm);
      return;
    }
    const value = Number(node.attrs.constantValue ?? 0);
    const dtype = context.value(x).dtype;
    if (dtype !== 'float32' && value !== 0) throw context.unsupported(node, `a ${dtype} pad with value ${value}`);
    const inputs = dtype === 'float32' ? [name, pads, context.float(value)] : [name, pads];
    context.emitFor(out, 'Pad', inputs, [attr.string('mode', 'constant')], perm);
  },
};
