export type { KernelLowering } from './kernel-lowering.js';
export { LoweringContext, type LoweredValue } from './lowering-context.js';
export {
  chooseWeightStorage,
  describeBytes,
  describeOnnxSize,
  MIN_COMPRESSED_ELEMENTS,
  type StoredType,
  type WeightStorage,
  type WeightStorageSummary,
} from './weight-storage.js';
export { encodeOnnx, lowerKernelGraph, ONNX_OPSET, type LoweredGraph, type LoweringOptions } from './lower-kernel-graph.js';
export { lowerCall, lowerModel, type LowerCallOptions, type OnnxExport } from './lower-model.js';
export { BUILT_IN_LOWERINGS } from './ops/index.js';
export { UnsupportedKernelError } from './unsupported-kernel-error.js';
