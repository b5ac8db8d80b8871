export { MixedPrecisionOptions, OutputBudgetOptions, PRECISION_POLICIES, type PrecisionPolicy } from './mixed-precision-options.js';
export { computeStatement, MixedPrecisionPlugin } from './mixed-precision-plugin.js';
export { QuantizedKilnModel } from './quantized-model.js';
export { encodeWeight, float16Bits, quantizeAffine, quantizeArtifacts, type EncodedWeight, type StoredPrecision } from './quantize.js';
