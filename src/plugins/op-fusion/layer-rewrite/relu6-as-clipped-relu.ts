/**
 * `relu6-as-clipped-relu`: computes relu6 with the stock `ReLU` layer (`maxValue: 6`)
 * instead of the `relu6` activation.
 *
 * tfjs-layers 4.22 computes the `relu6` activation as `minimum(6, relu(x))`: a Minimum
 * kernel that broadcasts a scalar, which the wasm backend runs far slower than a unary
 * kernel (on the depthwise zoo CNN at batch 16, tf.profile put eight Minimum calls at
 * 2.1 ms of 4.5 ms of kernel time, and the eight ClipByValue calls that replace them at 0.08 ms), and a layer with a `relu6` activation never gets it fused into its
 * conv/matmul kernel (tfjs-layers fuses only relu, elu and linear). The `ReLU` layer
 * with `maxValue: 6` computes `clipByValue(relu(x), 0, 6)`, the same values, with two
 * cheap unary kernels. The rewrite keeps the model stock: `ReLU` is a tfjs layer (the
 * form Keras' own MobileNets use).
 *
 * Two anchors:
 * - an `Activation('relu6')` layer becomes a `ReLU` layer of the same name;
 * - a layer whose own activation is `relu6` (Dense, Conv*, DepthwiseConv2D,
 *   SeparableConv2D) becomes linear and gets a `ReLU` layer after it, named
 *   `<layer>_relu6`. Not when the layer is shared (called more than once) or is a model
 *   output (the model's output would change its name).
 *
 * Runs before `merge-activation`, so a relu6 is never merged into the layer before it.
 */
import type { GraphLayer, JsonDict } from './layer-graph.js';
import { ACTIVATION_HOSTS } from './merge-activation.js';
import { label } from './preconditions.js';
import type { LayerRewriteRule, RewriteContext, RuleVerdict } from './rule.js';

const RELU6 = 'relu6';

/** The Keras config of a `ReLU(maxValue: 6)` layer, keeping the dtype and trainability of `from`. */
function clippedReluConfig(from: JsonDict): JsonDict {
  const config: JsonDict = { max_value: 6 };
  if (from.dtype !== undefined) config.dtype = from.dtype;
  if (from.trainable !== undefined) config.trainable = from.trainable;
  return config;
}

function check(layer: GraphLayer, context: RewriteContext): RuleVerdict {
  const graph = context.graph;
  if (layer.className === 'Activation') {
    return {
      kind: 'rewrite',
      layers: [layer.name],
      apply: () => graph.replaceLayer(layer.name, 'ReLU', clippedReluConfig(layer.config)),
    };
  }
  const skip = (reason: string): RuleVerdict => ({ kind: 'skip', layers: [layer.name], reason });
  if (layer.inboundNodes.length !== 1) return skip(`${label(layer)} is a shared layer (called ${layer.inboundNodes.length} times)`);
  if (graph.modelOutputs().some((o) => o.layer === layer.name)) {
    return skip(`${label(layer)} is a model output; a ReLU layer after it would rename the output`);
  }
  const name = graph.freeName(`${layer.name}_relu6`);
  return {
    kind: 'rewrite',
    layers: [layer.name, name],
    apply: () => {
      layer.config = { ...layer.config, activation: 'linear' };
      graph.insertAfter(layer.name, { name, className: 'ReLU', config: clippedReluConfig(layer.config) });
    },
  };
}

export const relu6AsClippedRelu: LayerRewriteRule = {
  name: 'relu6-as-clipped-relu',
  description: `compute relu6 (an Activation layer, or the activation of a ${ACTIVATION_HOSTS.join('/')}) with the stock ReLU layer (maxValue 6: relu then clipByValue) instead of tfjs-layers' relu then broadcast minimum`,
  computesWeights: false,
  isAnchor: (layer) =>
    layer.config.activation === RELU6 && (layer.className === 'Activation' || ACTIVATION_HOSTS.includes(layer.className)),
  check,
};
