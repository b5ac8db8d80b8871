/**
 * `drop-inference-noops`: removes layers that are the identity at inference (dropout
 * and noise layers), making their readers read their input directly.
 *
 * Not when the layer is called with `training: true` (it then drops or adds noise even
 * at inference: Monte-Carlo dropout), nor when removing a model output would leave the
 * model with a duplicated output or an output that is one of its inputs.
 *
 * SpatialDropout2D/3D are not tfjs layers but are listed so a model that registers
 * them (with the Keras semantics) is handled too.
 */
import type { GraphLayer } from './layer-graph.js';
import { bypassKeepsOutputsDistinct, singleInput } from './preconditions.js';
import type { LayerRewriteRule, RewriteContext, RuleVerdict } from './rule.js';

export const INFERENCE_NOOP_CLASSES: readonly string[] = [
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
];

function check(layer: GraphLayer, context: RewriteContext): RuleVerdict {
  const layers = [layer.name];
  const input = singleInput(layer);
  if (typeof input === 'string') return { kind: 'skip', layers, reason: input };
  const outputs = bypassKeepsOutputsDistinct(context.graph, layer, input);
  if (outputs !== undefined) return { kind: 'skip', layers, reason: outputs };
  return { kind: 'rewrite', layers, apply: () => context.graph.removeAndBypass(layer.name) };
}

export const dropInferenceNoops: LayerRewriteRule = {
  name: 'drop-inference-noops',
  description: `remove layers that are the identity at inference (${INFERENCE_NOOP_CLASSES.join(', ')})`,
  computesWeights: false,
  isAnchor: (layer) => INFERENCE_NOOP_CLASSES.includes(layer.className),
  check,
};
