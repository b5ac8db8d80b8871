/**
 * Layer-level rewriting of a tfjs LayersModel for inference: drop inference no-ops,
 * fold BatchNormalization into the conv/dense before it, compute relu6 with the ReLU
 * layer, merge standalone Activation layers into the layer before them. The result is a stock `tf.LayersModel` built by
 * `tf.loadLayersModel(tf.io.fromMemory(...))` from rewritten Keras JSON and weights:
 * it predicts, saves and loads with plain @tensorflow/tfjs, with no Kiln code at run time.
 */
import * as tf from '@tensorflow/tfjs';
import { joinWeightData } from '../../../io/weight-bytes.js';
import { dropInferenceNoops } from './drop-inference-noops.js';
import { foldBatchNormLayers } from './fold-batchnorm-layers.js';
import { LayerGraph } from './layer-graph.js';
import { mergeActivation } from './merge-activation.js';
import { relu6AsClippedRelu } from './relu6-as-clipped-relu.js';
import { functionalArtifacts, loadStockModel } from './model-artifacts.js';
import type { LayerRewriteRule, RewriteContext } from './rule.js';
import { findSerializationGaps, SerializationGapError } from './serialization-gaps.js';
import { WeightStore } from './weight-store.js';

export interface LayerRewriteOptions {
  /**
   * Rule names to skip (see {@link LAYER_REWRITE_RULE_NAMES}). Other names are ignored, so
   * one list can also name graph-level patterns; validate names against the union upstream.
   */
  readonly disabled?: readonly string[];
  /**
   * Names of weights the model's files store quantised (float16, uint8, uint16). A rule
   * that computes new weight values skips layers owning one: the new values could only
   * be written at full width, so the written model would grow past the file it came from.
   */
  readonly storedQuantized?: ReadonlySet<string>;
}

/** The first weight of `layers` named in `stored` (weights are named `<layer>/<weight>`), if any. */
function quantizedWeightOf(layers: readonly string[], stored: ReadonlySet<string>): string | undefined {
  for (const name of stored) if (layers.some((layer) => name.startsWith(`${layer}/`))) return name;
  return undefined;
}

export interface LayerRewriteApplication {
  readonly rule: string;
  /** User layer names involved, producer first (e.g. `['stem_conv', 'stem_bn']`). */
  readonly layers: readonly string[];
}

export interface LayerRewriteReport {
  /** Layers of the model's functional graph before rewriting, InputLayers included (a Sequential counts its implicit input). */
  readonly layersBefore: number;
  /** Layers of the rewritten model (`model.layers.length`). */
  readonly layersAfter: number;
  /** Every rewrite, in the order applied. */
  readonly applied: readonly LayerRewriteApplication[];
  /** Per rule (every rule, disabled ones with zeros): anchors examined and rewrites applied. */
  readonly perRule: Readonly<Record<string, { matched: number; applied: number }>>;
  /** Anchors that matched but whose preconditions failed, with why. */
  readonly skipped: readonly { rule: string; layers: readonly string[]; reason: string }[];
}

/**
 * The rules in the order they run. Each runs to completion over the whole graph
 * before the next: dropping no-ops first lets conv -> Dropout -> BN fold, folding
 * BN before merging lets conv -> BN -> relu become one conv with relu, and relu6 turns
 * into a ReLU layer before merging so it is never merged into a layer that would
 * compute it the slow way.
 */
export const LAYER_REWRITE_RULES: readonly LayerRewriteRule[] = [
  dropInferenceNoops,
  foldBatchNormLayers,
  relu6AsClippedRelu,
  mergeActivation,
];

export const LAYER_REWRITE_RULE_NAMES: readonly string[] = LAYER_REWRITE_RULES.map((r) => r.name);

/** Rank of the input of top-level layer `name` of the source model, from its input spec. */
function inputRankOf(model: tf.LayersModel, name: string): number | undefined {
  try {
    const ndim = model.getLayer(name).inputSpec?.[0]?.ndim;
    return typeof ndim === 'number' ? ndim : undefined;
  } catch {
    return undefined;
  }
}

const shapesOf = (tensors: readonly tf.SymbolicTensor[]) => JSON.stringify(tensors.map((t) => [t.shape, t.dtype]));

/**
 * Rewrites `model` for inference and returns a new, independent stock LayersModel (the
 * caller owns it and disposes it) with a report. The source model is only read: its
 * weights come from a save to memory and its variables are never written or disposed.
 * A new model is returned even when no rule applies. A Sequential comes back as a
 * functional model. The result carries no training config.
 *
 * Model output names follow the surviving layers: when a removed layer (e.g. a final
 * Activation) was a model output, the output is now named after the layer it merged into.
 *
 * @throws SerializationGapError for a model tfjs-layers 4.22 cannot rebuild from its own
 *   saved artifacts (SeparableConv2D with depth_multiplier > 1, a `gelu_new` activation).
 * @throws Error for a model tfjs cannot serialise,
 *   or (a bug guard) a rewritten model whose input/output shapes differ from the source's.
 */
export async function rewriteLayers(
  model: tf.LayersModel,
  options: LayerRewriteOptions = {},
): Promise<{ model: tf.LayersModel; report: LayerRewriteReport }> {
  const disabled = new Set(options.disabled ?? []);

  const { artifacts } = await functionalArtifacts(model);
  const graph = LayerGraph.fromTopology(artifacts.modelTopology);
  const weights = WeightStore.fromArtifacts(artifacts.weightSpecs ?? [], joinWeightData(artifacts.weightData));
  const gaps = findSerializationGaps(graph, weights);
  if (gaps.length > 0) throw new SerializationGapError(model.name, gaps);
  const context: RewriteContext = { graph, weights, inputRankOf: (name) => inputRankOf(model, name) };
  const layersBefore = graph.size;

  const applied: LayerRewriteApplication[] = [];
  const skipped: { rule: string; layers: readonly string[]; reason: string }[] = [];
  const perRule: Record<string, { matched: number; applied: number }> = {};
  for (const rule of LAYER_REWRITE_RULES) {
    const counts = { matched: 0, applied: 0 };
    perRule[rule.name] = counts;
    if (disabled.has(rule.name)) continue;
    const anchors = graph
      .layers()
      .filter((l) => rule.isAnchor(l))
      .map((l) => l.name);
    for (const name of anchors) {
      const anchor = graph.get(name);
      if (!anchor) continue; // removed by an earlier rewrite of this rule
      const verdict = rule.check(anchor, context);
      counts.matched++;
      if (verdict.kind === 'skip') {
        skipped.push({ rule: rule.name, layers: verdict.layers, reason: verdict.reason });
        continue;
      }
      const stored =
        rule.computesWeights && options.storedQuantized ? quantizedWeightOf(verdict.layers, options.storedQuantized) : undefined;
      if (stored) {
        skipped.push({
          rule: rule.name,
          layers: verdict.layers,
          reason: `the model's files store ${stored} quantised; folding would compute new values that could only be written as float32, so the written model would grow (the compiled kernels still fuse at run time)`,
        });
        continue;
      }
      verdict.apply();
      counts.applied++;
      applied.push({ rule: rule.name, layers: verdict.layers });
    }
  }

  const rewritten = await loadStockModel({ ...artifacts, modelTopology: graph.toTopology(), ...weights.toArtifacts() });
  if (shapesOf(rewritten.inputs) !== shapesOf(model.inputs) || shapesOf(rewritten.outputs) !== shapesOf(model.outputs)) {
    const got = `inputs ${shapesOf(rewritten.inputs)}, outputs ${shapesOf(rewritten.outputs)}`;
    rewritten.dispose();
    throw new Error(
      `Layer rewriting changed the signature of model "${model.name}" (expected inputs ${shapesOf(model.inputs)}, ` +
        `outputs ${shapesOf(model.outputs)}; got ${got}). This is a bug in the layer rewrite rules.`,
    );
  }
  return {
    model: rewritten,
    report: { layersBefore, layersAfter: rewritten.layers.length, applied, perRule, skipped },
  };
}
