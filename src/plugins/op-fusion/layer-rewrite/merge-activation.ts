/**
 * `merge-activation`: a standalone Activation layer is merged into the layer right
 * before it, by setting that layer's own `activation` and removing the Activation.
 *
 * Only for producers whose `activation` is applied last, to their whole output
 * (Dense, Conv1D/2D/3D, Conv2DTranspose, Conv3DTranspose, DepthwiseConv2D,
 * SeparableConv2D): `act(layer(x))` is then exactly what the merged layer computes. Not
 * for layers that merely have an `activation` field with other semantics (recurrent
 * layers apply it inside the recurrence) nor for custom layers. The activation name
 * is copied as serialised (`relu`, `relu6`, `softmax`, `gelu_new`, ...): the producer
 * deserialises it through the same tfjs registry as the Activation layer did, and
 * softmax/logSoftmax act on the last axis in both.
 */
import type { GraphLayer } from './layer-graph.js';
import { label, hasLinearActivation, singleInput, soleProducer } from './preconditions.js';
import type { LayerRewriteRule, RewriteContext, RuleVerdict } from './rule.js';

export const ACTIVATION_HOSTS: readonly string[] = [
  'Dense',
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'Conv2DTranspose',
  'Conv3DTranspose',
  'DepthwiseConv2D',
  'SeparableConv2D',
];

function check(activation: GraphLayer, context: RewriteContext): RuleVerdict {
  const input = singleInput(activation);
  const layers = typeof input === 'string' ? [activation.name] : [input.layer, activation.name];
  const skip = (reason: string): RuleVerdict => ({ kind: 'skip', layers, reason });
  if (typeof input === 'string') return skip(input);

  const name = activation.config.activation;
  if (typeof name !== 'string' || name.length === 0)
    return skip(`${label(activation)} has activation ${JSON.stringify(name)}, not a named activation`);
  const found = soleProducer(context.graph, activation, (p) =>
    ACTIVATION_HOSTS.includes(p.className) ? undefined : `producer ${label(p)} has no output activation to merge into`,
  );
  if ('reason' in found) return skip(found.reason);
  const producer = found.producer;
  if (!hasLinearActivation(producer.config)) {
    return skip(`producer ${label(producer)} already has activation ${JSON.stringify(producer.config.activation)}`);
  }
  return {
    kind: 'rewrite',
    layers: [producer.name, activation.name],
    apply: () => {
      producer.config = { ...producer.config, activation: name };
      context.graph.removeAndBypass(activation.name);
    },
  };
}

export const mergeActivation: LayerRewriteRule = {
  name: 'merge-activation',
  description: `merge a standalone Activation into the ${ACTIVATION_HOSTS.join('/')} before it when that layer is linear`,
  computesWeights: false,
  isAnchor: (layer) => layer.className === 'Activation',
  check,
};
