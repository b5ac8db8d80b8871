import type { KernelLowering } from '../kernel-lowering.js';
import { attr } from '../onnx-attributes.js';
import { broadcastOperands } from './broadcast.js';

/** tf.js binary kernels with an ONNX op of the same numpy broadcasting. */
const BINARY: Readonly<Record<string, string>> = {
  Add: 'Add',
  BiasAdd: 'Add',
  Sub: 'Sub',
  Multiply: 'Mul',
  Mul: 'Mul',
  RealDiv: 'Div',
  Div: 'Div',
  Maximum: 'Max',
  Minimum: 'Min',
  Pow: 'Pow',
  Greater: 'Greater',
  GreaterEqual: 'GreaterOrEqual',
  Less: 'Less',
  LessEqual: 'LessOrEqual',
  Equal: 'Equal',
  LogicalAnd: 'And',
  LogicalOr: 'Or',
};

/**
 * Binary element-wise kernels (Add, BiasAdd as an Add broadcast over the last axis, Sub,
 * Mul, RealDiv, Maximum, Minimum, Pow, comparisons, SquaredDifference, FloorDiv), AddN
 * and Select. They run in the layout of their operands (see `broadcastOperands`), so a
 * bias or residual add after a conv stays in NCHW.
 */
export const elementwiseLowering: KernelLowering = {
  kernels: [...Object.keys(BINARY), 'SquaredDifference', 'FloorDiv', 'AddN', 'Select', 'NotEqual'],
  lower(node, context) {
    const out = node.outputs[0]!;
    const rank = context.rank(out);
    if (node.kernel === 'AddN') {
      const { perm, names } = broadcastOperands(context, Object.values(node.inputs), rank);
      context.emitFor(out, 'Sum', names, [], perm);
      return;
    }
    if (node.kernel === 'Select') {
      const { perm, names } = broadcastOperands(context, [node.inputs.condition!, node.inputs.t!, node.inputs.e!], rank);
      context.emitFor(out, 'Where', names, [], perm);
      return;
    }
    const a = node.inputs.a ?? node.inputs.x!;
    const b = node.inputs.b ?? node.inputs.bias!;
    const { perm, names } = broadcastOperands(context, [a, b], rank);
    switch (node.kernel) {
      case 'SquaredDifference': {
        const d = context.emit('Sub', names)[0]!;
        context.emitFor(out, 'Mul', [d, d], [], perm);
        return;
      }
      case 'FloorDiv': {
        if (context.value(out).dtype === 'float32') {
          context.emitFor(out, 'Floor', [context.emit('Div', names)[0]!], [], perm);
          return;
        }
        // integers: floor(a / b) in float64 (exact for int32), as tf.js computes it
        const [da, db] = names.map((n) => context.emit('Cast', [n], [attr.int('to', 11)])[0]!);
        const floored = context.emit('Floor', [context.emit('Div', [da!, db!])[0]!])[0]!;
        context.emitFor(out, 'Cast', [floored], [attr.int('to', 6)], perm);
        return;
      }
      case 'NotEqual':
        context.emitFor(out, 'Not', [context.emit('Equal', names)[0]!], [], perm);
        return;
      default:
        context.emitFor(out, BINARY[node.kernel]!, names, [], perm);
    }
  },
};
