import type { KernelLowering } from '../kernel-lowering.js';
import { NCHW, permuteShape } from '../layout.js';
import { attr } from '../onnx-attributes.js';

/**
 * ResizeBilinear and ResizeNearestNeighbor as ONNX Resize to the traced size, in NCHW,
 * with the coordinate mapping tf.js uses: align_corners, half_pixel, else asymmetric.
 */
export const resizeLowering: KernelLowering = {
  kernels: ['ResizeBilinear', 'ResizeNearestNeighbor'],
  lower(node, context) {
    const x = node.inputs.images ?? node.inputs.x!;
    const out = node.outputs[0]!;
    const alignCorners = Boolean(node.attrs.alignCorners);
    const halfPixel = Boolean(node.attrs.halfPixelCenters);
    const bilinear = node.kernel === 'ResizeBilinear';
    const mode = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
    const attributes = [attr.string('mode', bilinear ? 'linear' : 'nearest'), attr.string('coordinate_transformation_mode', mode)];
    // tf.js's nearest: round(x * scale) with align corners, floor((x + 0.5) * scale) with half-pixel
    // centres (ONNX's half_pixel, x_orig = (x + 0.5) * scale - 0.5, rounded half up), floor(x * scale) otherwise
    if (!bilinear) attributes.push(attr.string('nearest_mode', alignCorners || halfPixel ? 'round_prefer_ceil' : 'floor'));
    const sizes = context.int64(permuteShape(context.shape(out), NCHW));
    context.emitFor(out, 'Resize', [context.inLayout(x, NCHW), '', '', sizes], attributes, NCHW);
  },
};
