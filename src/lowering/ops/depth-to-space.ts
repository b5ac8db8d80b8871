import type { KernelLowering } from '../kernel-lowering.js';
import { NCHW } from '../layout.js';
import { attr } from '../onnx-attributes.js';

/** DepthToSpace (NHWC) as ONNX DepthToSpace in NCHW, mode DCR (TF's channel order). */
export const depthToSpaceLowering: KernelLowering = {
  kernels: ['DepthToSpace'],
  lower(node, context) {
    const format = String(node.attrs.dataFormat ?? 'NHWC');
    if (format !== 'NHWC') throw context.unsupported(node, `data format ${format}`);
    const x = node.inputs.x!;
    context.emitFor(
      node.outputs[0]!,
      'DepthToSpace',
      [context.inLayout(x, NCHW)],
      [attr.int('blocksize', Number(node.attrs.blockSize)), attr.string('mode', 'DCR')],
      NCHW,
    );
  },
};
