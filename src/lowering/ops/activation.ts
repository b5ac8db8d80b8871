import type { KernelNode, ValueId } from '../../compiler/ir.js';
import type { KernelLowering } from '../kernel-lowering.js';
import type { Perm } from '../layout.js';
import type { LoweringContext } from '../lowering-context.js';
import { attr } from '../onnx-attributes.js';

/**
 * The activation of a fused kernel (`activation` of FusedConv2D, FusedDepthwiseConv2D,
 * _FusedMatMul), applied to `name` (held in `perm`, of the node's output rank); returns
 * the name of the result. PReLU weights are broadcast to the output's layout.
 */
export function applyFusedActivation(context: LoweringContext, node: KernelNode, name: string, perm: Perm): string {
  const activation = String(node.attrs.activation ?? 'linear');
  const rank = context.rank(node.outputs[0]!);
  switch (activation) {
    case 'linear':
      return name;
    case 'relu':
      return context.emit('Relu', [name])[0]!;
    case 'relu6':
      return context.emit('Clip', [name, context.float(0), context.float(6)])[0]!;
    case 'elu':
      return context.emit('Elu', [name], [attr.float('alpha', 1)])[0]!;
    case 'sigmoid':
      return exactSigmoid(context, name);
    case 'leakyrelu':
      return context.emit('LeakyRelu', [name], [attr.float('alpha', Number(node.attrs.leakyreluAlpha ?? 0.2))])[0]!;
    case 'prelu': {
      const alpha = node.inputs.preluActivationWeights;
      if (alpha === undefined) throw context.unsupported(node, 'prelu activation without preluActivationWeights');
      return context.emit('PRelu', [name, context.broadcastIn(alpha, rank, perm)])[0]!;
    }
    default:
      throw context.unsupported(node, `fused activation "${activation}" has no ONNX mapping`);
  }
}

/**
 * 1 / (1 + exp(-x)), as tf.js computes a sigmoid, rather than ONNX `Sigmoid`: onnxruntime's
 * CPU `Sigmoid` is an approximation good to about 1e-7 absolute, so in the tail (x below
 * about -10, where the value is below 5e-5) it is off by up to a few percent of the value,
 * which fails Kiln's scale-aware check on an output that lives there (MediaPipe selfie's
 * mask on a background: 6.646e-6 for tf.js's 6.701e-6). Four element-wise nodes instead
 * of one; exp(-x) overflows to Infinity for x below about -88, and 1 / Infinity is 0, as in
 * tf.js.
 */
function exactSigmoid(context: LoweringContext, name: string): string {
  const exp = context.emit('Exp', [context.emit('Neg', [name])[0]!])[0]!;
  const denominator = context.emit('Add', [exp, context.float(1)])[0]!;
  return context.emit('Reciprocal', [denominator])[0]!;
}

/** Unary kernels that act on each element alone, so their output keeps the input's layout. */
const UNARY: Readonly<Record<string, string>> = {
  Relu: 'Relu',
  Tanh: 'Tanh',
  Exp: 'Exp',
  Log: 'Log',
  Sqrt: 'Sqrt',
  Abs: 'Abs',
  Neg: 'Neg',
  Floor: 'Floor',
  Ceil: 'Ceil',
  Round: 'Round',
  Sin: 'Sin',
  Cos: 'Cos',
  Erf: 'Erf',
  Reciprocal: 'Reciprocal',
  Softplus: 'Softplus',
  Sign: 'Sign',
  IsNan: 'IsNaN',
  LogicalNot: 'Not',
  Identity: 'Identity',
};

/** Emits a one-input op that keeps the layout of its input `x`. */
function unary(
  context: LoweringContext,
  node: KernelNode,
  x: ValueId,
  opType: string,
  attributes = [] as ReturnType<typeof attr.float>[],
): void {
  const { name, perm } = context.get(x);
  context.emitFor(node.outputs[0]!, opType, [name], attributes, perm);
}

/** Element-wise activations and math: Relu, Relu6, Elu, Selu, LeakyRelu, Prelu, Sigmoid, Tanh, Exp, Sqrt, Rsqrt, Square, ClipByValue, ... */
export const activationLowering: KernelLowering = {
  kernels: [
    ...Object.keys(UNARY),
    'Sigmoid',
    'Relu6',
    'Elu',
    'Selu',
    'LeakyRelu',
    'Prelu',
    'Rsqrt',
    'Square',
    'ClipByValue',
    'Step',
    'Expm1',
    'Log1p',
  ],
  lower(node, context) {
    const x = node.inputs.x!;
    const out = node.outputs[0]!;
    const { name, perm } = context.get(x);
    switch (node.kernel) {
      case 'Identity':
        context.define(out, name, perm);
        return;
      case 'Sigmoid':
        context.define(out, exactSigmoid(context, name), perm);
        return;
      case 'Relu6':
        context.emitFor(out, 'Clip', [name, context.float(0), context.float(6)], [], perm);
        return;
      case 'ClipByValue':
        context.emitFor(
          out,
          'Clip',
          [name, context.float(Number(node.attrs.clipValueMin)), context.float(Number(node.attrs.clipValueMax))],
          [],
          perm,
        );
        return;
      case 'Elu':
        unary(context, node, x, 'Elu', [attr.float('alpha', 1)]);
        return;
      case 'Selu':
        unary(context, node, x, 'Selu', [attr.float('alpha', 1.6732632423543772), attr.float('gamma', 1.0507009873554805)]);
        return;
      case 'LeakyRelu':
        unary(context, node, x, 'LeakyRelu', [attr.float('alpha', Number(node.attrs.alpha ?? 0.2))]);
        return;
      case 'Prelu':
        context.emitFor(out, 'PRelu', [name, context.broadcastIn(node.inputs.alpha!, context.rank(x), perm)], [], perm);
        return;
      case 'Rsqrt':
        context.emitFor(out, 'Reciprocal', [context.emit('Sqrt', [name])[0]!], [], perm);
        return;
      case 'Square':
        context.emitFor(out, 'Mul', [name, name], [], perm);
        return;
      case 'Expm1':
        context.emitFor(out, 'Sub', [context.emit('Exp', [name])[0]!, context.float(1)], [], perm);
        return;
      case 'Log1p':
        context.emitFor(out, 'Log', [context.emit('Add', [name, context.float(1)])[0]!], [], perm);
        return;
      case 'Step': {
        // tf.step: 1 where x > 0, else alpha
        const alpha = Number(node.attrs.alpha ?? 0);
        const positive = context.emit('Greater', [name, context.float(0)])[0]!;
        context.emitFor(out, 'Where', [positive, context.float(1), context.float(alpha)], [], perm);
        return;
      }
      default:
        unary(context, node, x, UNARY[node.kernel]!);
    }
  },
};
