/**
 * Models that run in memory but do not survive a tfjs-layers 4.22 save/load round trip.
 * The rewrite works on saved artifacts and must return a stock model rebuilt from them,
 * so it cannot rewrite such a model faithfully; `findSerializationGaps` names the known
 * gaps up front so the error says why instead of failing deep inside `loadLayersModel`.
 *
 * - `SeparableConv2D.getConfig()` omits `depth_multiplier`, so a reloaded layer has
 *   multiplier 1 and its depthwise kernel no longer fits the saved weight.
 * - At load, tfjs camel-cases every string in a layer config, so an activation is
 *   looked up by its camel-cased saved name: `hard_sigmoid` and `log_softmax` find
 *   `hardSigmoid` and `logSoftmax`, but `gelu_new` becomes `geluNew`, which is not registered.
 */
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_HOSTS } from './merge-activation.js';
import { label } from './preconditions.js';
import type { LayerGraph } from './layer-graph.js';
import type { WeightStore } from './weight-store.js';

/** The model cannot be rewritten because tfjs cannot rebuild it from its own saved artifacts. */
export class SerializationGapError extends Error {
  override readonly name = 'SerializationGapError';
  constructor(
    modelName: string,
    readonly gaps: readonly string[],
  ) {
    super(
      `Cannot rewrite model "${modelName}": it does not survive a tfjs-layers save/load round trip, so no stock model ` +
        `equal to it can be built: ${gaps.join('; ')}.`,
    );
  }
}

/** tfjs-layers' `toCamelCase`, applied to every config string at load. */
const camelCase = (identifier: string): string => identifier.replace(/[_]+(\w|$)/g, (_m, c: string) => c.toUpperCase());

/** Whether tfjs can resolve the saved activation name at load. */
function activationLoads(saved: string): boolean {
  const classes = tf.serialization.SerializationMap.getMap().classNameMap;
  return Object.prototype.hasOwnProperty.call(classes, camelCase(saved));
}

/** One reason per layer that tfjs 4.22 would not rebuild as it is; empty when none. */
export function findSerializationGaps(graph: LayerGraph, weights: WeightStore): string[] {
  const gaps: string[] = [];
  for (const layer of graph.layers()) {
    const activation = layer.config.activation;
    // Built-in layers resolve `activation` through the registry; custom layers may treat it otherwise.
    const resolvesActivation = layer.className === 'Activation' || ACTIVATION_HOSTS.includes(layer.className);
    if (resolvesActivation && typeof activation === 'string' && !activationLoads(activation)) {
      gaps.push(`${label(layer)} uses activation "${activation}", which tfjs-layers cannot load back (it looks the name up camel-cased)`);
    }
    if (layer.className === 'SeparableConv2D') {
      const kernel = weights.readFloat32(`${layer.name}/depthwise_kernel`);
      const saved = layer.config.depth_multiplier ?? 1;
      if (typeof kernel !== 'string' && kernel.shape.length === 4 && kernel.shape[3] !== saved) {
        gaps.push(
          `${label(layer)} has depth multiplier ${kernel.shape[3]}, which tfjs-layers does not save (it reloads with ${String(saved)})`,
        );
      }
    }
  }
  return gaps;
}
