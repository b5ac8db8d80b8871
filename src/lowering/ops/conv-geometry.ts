import type { KernelNode } from '../../compiler/ir.js';
import type { LoweringContext } from '../lowering-context.js';

/** A pair from a tf.js attribute that is one number or [h, w] (null or absent: `fallback`). */
export function pair(value: unknown, fallback: number): [number, number] {
  if (value == null) return [fallback, fallback];
  if (typeof value === 'number') return [value, value];
  const a = value as number[];
  return a.length === 4 ? [a[1]!, a[2]!] : [a[0]!, a[1] ?? a[0]!];
}

/**
 * ONNX `pads` ([top, left, bottom, right]) for a tf.js conv or pool over NHWC `x` giving
 * NHWC `out`: 'valid' is none, 'same' is TF's split (the odd pixel at the end), a number
 * is that many on every side, an explicit [[0,0],[t,b],[l,r],[0,0]] is taken as it is.
 * The output size these pads give is checked against the traced one.
 */
export function convPads(
  context: LoweringContext,
  node: KernelNode,
  inShape: readonly number[],
  outShape: readonly number[],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): number[] {
  const pad = node.attrs.pad;
  const effective = kernel.map((k, i) => (k - 1) * dilations[i]! + 1);
  let pads: number[];
  if (pad === 'valid') pads = [0, 0, 0, 0];
  else if (pad === 'same') {
    const total = [0, 1].map((i) => Math.max((outShape[i + 1]! - 1) * strides[i]! + effective[i]! - inShape[i + 1]!, 0));
    pads = [
      Math.floor(total[0]! / 2),
      Math.floor(total[1]! / 2),
      total[0]! - Math.floor(total[0]! / 2),
      total[1]! - Math.floor(total[1]! / 2),
    ];
  } else if (typeof pad === 'number') {
    if (node.attrs.dimRoundingMode != null) throw context.unsupported(node, `dimRoundingMode "${String(node.attrs.dimRoundingMode)}"`);
    pads = [pad, pad, pad, pad];
  } else if (Array.isArray(pad) || pad === 'explicit') {
    const flat = (Array.isArray(pad) ? pad : (node.attrs.explicitPaddings as unknown[])).flat() as number[];
    if (flat.length !== 8) throw context.unsupported(node, `explicit padding ${JSON.stringify(pad)}`);
    pads = [flat[2]!, flat[4]!, flat[3]!, flat[5]!];
  } else throw context.unsupported(node, `padding ${JSON.stringify(pad)}`);
  for (const i of [0, 1]) {
    const size = Math.floor((inShape[i + 1]! + pads[i]! + pads[i + 2]! - effective[i]!) / strides[i]!) + 1;
    if (size !== outShape[i + 1]) throw context.unsupported(node, `padding ${JSON.stringify(pad)} gives a different output size in ONNX`);
  }
  return pads;
}
