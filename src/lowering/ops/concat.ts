import type { ValueId } from '../../compiler/ir.js';
import type { KernelLowering } from '../kernel-lowering.js';
import { normalise, onnxAxis, sameLayout } from '../layout.js';
import { attr } from '../onnx-attributes.js';

/**
 * Concat along an axis, in the layout its inputs share (the axis mapped to it), else in
 * the tf.js layout; Pack (tf.stack) as Unsqueeze + Concat and Unpack (tf.unstack) as
 * Split + Squeeze, in the tf.js layout.
 */
export const concatLowering: KernelLowering = {
  kernels: ['Concat', 'Pack', 'Unpack'],
  lower(node, context) {
    const inputs = Object.keys(node.inputs)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => node.inputs[k]!) as ValueId[];
    const out = node.outputs[0]!;
    if (node.kernel === 'Unpack') {
      const x = node.inputs.value ?? node.inputs.x!;
      const rank = context.rank(x);
      const axis = onnxAxis(Number(node.attrs.axis ?? 0), rank, undefined);
      const parts = context.emit(
        'Split',
        [context.inLayout(x, undefined), context.int64(node.outputs.map(() => 1))],
        [attr.int('axis', axis)],
        node.outputs.length,
      );
      node.outputs.forEach((o, i) => context.emitFor(o, 'Squeeze', [parts[i]!, context.int64([axis])]));
      return;
    }
    const rank = context.rank(out);
    if (node.kernel === 'Pack') {
      const axis = onnxAxis(Number(node.attrs.axis ?? 0), rank, undefined);
      const expanded = inputs.map((id) => context.emit('Unsqueeze', [context.inLayout(id, undefined), context.int64([axis])])[0]!);
      context.emitFor(out, 'Concat', expanded, [attr.int('axis', axis)]);
      return;
    }
    const live = inputs.filter((id) => !context.isWeight(id));
    const first = live.length ? context.layoutOf(live[0]!) : undefined;
    const perm = live.every((id) => sameLayout(context.layoutOf(id), first)) ? normalise(first) : undefined;
    const axis = onnxAxis(Number(node.attrs.axis ?? 0), rank, perm);
    context.emitFor(
      out,
      'Concat',
      inputs.map((id) => context.inLayout(id, perm)),
      [attr.int('axis', axis)],
      perm,
    );
  },
};
