/**
 * Structural preconditions shared by the rules. Each check returns `undefined` when it
 * holds and a human-readable reason when it does not.
 */
import type { GraphLayer, JsonDict, LayerGraph, TensorRef } from './layer-graph.js';

/** Class names of models used as layers. */
const MODEL_CLASSES = new Set(['Model', 'Functional', 'Sequential']);

/** Whether the layer is a whole model nested as a layer. */
export function isNestedModel(layer: GraphLayer): boolean {
  return MODEL_CLASSES.has(layer.className) || Array.isArray(layer.config.layers);
}

/** Whether the layer's `activation` config is linear (absent, null or `'linear'`). */
export function hasLinearActivation(config: JsonDict): boolean {
  return config.activation === undefined || config.activation === null || config.activation === 'linear';
}

/** Whether the layer's `data_format` is channels-last (absent means the tfjs default, channels-last). */
export function isChannelsLast(config: JsonDict): boolean {
  const format = config.data_format;
  return format === undefined || format === null || format === 'channels_last' || format === 'channelsLast';
}

/** `name (Class)` for messages. */
export const label = (layer: GraphLayer): string => `${layer.name} (${layer.className})`;

/**
 * The single input of a layer that is called once on one tensor, or why not: a shared
 * layer (several calls), a multi-input call, or a call with `training: true` (which
 * makes BatchNormalization use batch statistics and dropout layers drop even at
 * inference, so removing them would change the model).
 */
export function singleInput(layer: GraphLayer): TensorRef | string {
  if (layer.inboundNodes.length !== 1) return `${label(layer)} is a shared layer (called ${layer.inboundNodes.length} times)`;
  const node = layer.inboundNodes[0]!;
  if (node.length !== 1) return `${label(layer)} takes ${node.length} inputs, not one`;
  const ref = node[0]!;
  if (ref.kwargs.training) return `${label(layer)} is called with training=true, which inference-mode rewriting would change`;
  return ref;
}

/**
 * The layer whose output feeds `anchor`, when `anchor` is a single-input layer and
 * that producer passes `accepts` (a rule-specific reason otherwise), is not a nested
 * model, is called once, and its output is read by `anchor` alone (no other layer,
 * not a model output).
 */
export function soleProducer(
  graph: LayerGraph,
  anchor: GraphLayer,
  accepts: (producer: GraphLayer) => string | undefined,
): { producer: GraphLayer } | { reason: string } {
  const input = singleInput(anchor);
  if (typeof input === 'string') return { reason: input };
  const producer = graph.get(input.layer);
  if (!producer) return { reason: `input layer ${input.layer} of ${label(anchor)} is missing from the graph` };
  if (isNestedModel(producer)) return { reason: `producer ${label(producer)} is a nested model` };
  const refused = accepts(producer);
  if (refused !== undefined) return { reason: refused };
  if (producer.inboundNodes.length !== 1)
    return { reason: `producer ${label(producer)} is a shared layer (called ${producer.inboundNodes.length} times)` };
  const uses = graph.usesOf(producer.name);
  const others = uses.filter((u) => u.kind === 'model-output' || u.layer !== anchor.name);
  if (others.length > 0) {
    const what = others.map((u) => (u.kind === 'model-output' ? `model output ${u.output}` : u.layer));
    return { reason: `output of producer ${label(producer)} is also read by ${[...new Set(what)].join(', ')}` };
  }
  return { producer };
}

/**
 * Whether bypassing single-input layer `layer` keeps the model's outputs well formed:
 * when `layer` is a model output, its input must not be a model input and must not
 * already be another model output (tfjs models need distinct outputs).
 */
export function bypassKeepsOutputsDistinct(graph: LayerGraph, layer: GraphLayer, input: TensorRef): string | undefined {
  const outputs = graph.modelOutputs();
  if (!outputs.some((o) => o.layer === layer.name)) return undefined;
  const same = (a: TensorRef, b: TensorRef) => a.layer === b.layer && a.nodeIndex === b.nodeIndex && a.tensorIndex === b.tensorIndex;
  if (graph.modelInputs().some((i) => same(i, input)))
    return `${label(layer)} is a model output fed directly by model input ${input.layer}`;
  if (outputs.some((o) => same(o, input))) return `${label(layer)} is a model output whose input ${input.layer} is also a model output`;
  return undefined;
}
