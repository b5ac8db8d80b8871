export {
  LAYER_REWRITE_RULE_NAMES,
  LAYER_REWRITE_RULES,
  rewriteLayers,
  type LayerRewriteApplication,
  type LayerRewriteOptions,
  type LayerRewriteReport,
} from './rewrite-layers.js';
export type { LayerRewriteRule, RewriteContext, RuleVerdict } from './rule.js';
export { LayerGraph, TopologyFormatError, type GraphLayer, type OutputUse, type TensorRef } from './layer-graph.js';
export { WeightStore, type Float32Weight } from './weight-store.js';
export { foldBatchNormLayers, FOLDABLE_CLASSES } from './fold-batchnorm-layers.js';
export { mergeActivation, ACTIVATION_HOSTS } from './merge-activation.js';
export { relu6AsClippedRelu } from './relu6-as-clipped-relu.js';
export { dropInferenceNoops, INFERENCE_NOOP_CLASSES } from './drop-inference-noops.js';
export { findSerializationGaps, SerializationGapError } from './serialization-gaps.js';
