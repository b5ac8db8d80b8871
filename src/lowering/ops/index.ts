import type { KernelLowering } from '../kernel-lowering.js';
import { activationLowering } from './activation.js';
import { batchNormLowering } from './batch-norm.js';
import { castLowering } from './cast.js';
import { concatLowering } from './concat.js';
import { convLowering } from './conv.js';
import { convTransposeLowering } from './conv-transpose.js';
import { cumulativeLowering } from './cumulative.js';
import { depthToSpaceLowering } from './depth-to-space.js';
import { elementwiseLowering } from './elementwise.js';
import { gatherLowering, gatherNdLowering } from './gather.js';
import { lrnLowering } from './lrn.js';
import { einsumLowering, matmulLowering } from './matmul.js';
import { oneHotLowering } from './one-hot.js';
import { padLowering } from './pad.js';
import { poolingLowering } from './pooling.js';
import { reductionLowering } from './reduction.js';
import { reshapeLowering } from './reshape.js';
import { resizeLowering } from './resize.js';
import { sliceLowering } from './slice.js';
import { softmaxLowering } from './softmax.js';
import { tileLowering } from './tile.js';
import { topKLowering } from './top-k.js';
import { transposeLowering } from './transpose.js';

/** Every built-in kernel lowering, one per op family. */
export const BUILT_IN_LOWERINGS: readonly KernelLowering[] = [
  activationLowering,
  batchNormLowering,
  castLowering,
  concatLowering,
  convLowering,
  convTransposeLowering,
  cumulativeLowering,
  depthToSpaceLowering,
  einsumLowering,
  elementwiseLowering,
  gatherLowering,
  gatherNdLowering,
  lrnLowering,
  matmulLowering,
  oneHotLowering,
  padLowering,
  poolingLowering,
  reductionLowering,
  reshapeLowering,
  resizeLowering,
  sliceLowering,
  softmaxLowering,
  tileLowering,
  topKLowering,
  transposeLowering,
];
