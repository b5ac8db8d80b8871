import { collapseReshape } from './patterns/collapse-reshape.js';
import { collapseTranspose } from './patterns/collapse-transpose.js';
import { biasAdd } from './patterns/bias-add.js';
import { foldBatchNormKernels } from './patterns/fold-batchnorm-kernels.js';
import { fusedActivation } from './patterns/fused-activation.js';
import type { FusionPattern } from './fusion-pattern.js';

export { GraphTools, type FusionContext, type FusionPattern, type FusionSite } from './fusion-pattern.js';
export { emptyTally, fusionPass, type FusionPassOptions, type FusionTally } from './fusion-pass.js';
export { ACTIVATION_KERNELS, fusedActivationSupported, normaliseConvAttrs } from './activations.js';
export { pairPattern, type PairPatternSpec, type PairRewrite } from './pair-pattern.js';
export { biasAdd, collapseReshape, collapseTranspose, foldBatchNormKernels, fusedActivation };

/** Kiln's fusion patterns, in the order they are tried (folds first, so activations can then merge). */
export const BUILT_IN_FUSION_PATTERNS: readonly FusionPattern[] = [
  foldBatchNormKernels,
  biasAdd,
  fusedActivation,
  collapseReshape,
  collapseTranspose,
];
