import type { KernelLowering } from '../kernel-lowering.js';
import { onnxDataType } from '../onnx-dtype.js';
import { attr } from '../onnx-attributes.js';

/**
 * OneHot as ONNX OneHot on a new last axis, in the tf.js layout. ONNX counts a negative
 * index from the end, where tf.js gives all `offValue`: negative indices are moved out of
 * range first.
 */
export const oneHotLowering: KernelLowering = {
  kernels: ['OneHot'],
  lower(node, context) {
    const indices = context.inLayout(node.inputs.indices!, undefined);
    const depth = Number(node.attrs.depth);
    const dtype = context.value(node.outputs[0]!).dtype;
    const type = onnxDataType(dtype);
    if (type === undefined || dtype === 'bool') throw context.unsupported(node, `a ${dtype} one-hot`);
    const asInt64 = context.emit('Cast', [indices], [attr.int('to', 7)])[0]!;
    const negative = context.emit('Less', [asInt64, context.int64([0], true)])[0]!;
    const inRange = context.emit('Where', [negative, context.int64([depth], true), asInt64])[0]!;
    const on = Number(node.attrs.onValue ?? 1);
    const off = Number(node.attrs.offValue ?? 0);
    // onnxruntime's CPU OneHot takes float values: an int32 one-hot is cast after
    const hot = context.emit('OneHot', [inRange, context.int64([depth], true), context.floats([off, on])], [attr.int('axis', -1)])[0]!;
    if (dtype === 'float32') context.define(node.outputs[0]!, hot);
    else context.emitFor(node.outputs[0]!, 'Cast', [hot], [attr.int('to', type)]);
  },
};
