import * as tf from '@tensorflow/tfjs';
import { container as rootContainer, inject, type DependencyContainer } from 'tsyringe';
import { CompiledModel } from '../../compiler/api/compiled-model.js';
import type { KilnConfig } from '../../config/kiln-config.js';
import { Description } from '../../config/description.js';
import { IsBooleanValue, IsOneOfValues, IsStringList } from '../../config/validators.js';
import { withBackendAsync, isTfjsBackend } from '../../core/backend-scope.js';
import { resolveAllByLevel } from '../../core/container-chain.js';
import { inheritSourceArtifacts, sourceArtifactsOf } from '../../core/formats/source-artifacts.js';
import { BUILT_IN_FUSION_PATTERNS, type FusionPattern } from './kernel-fusion/index.js';
import type { KilnModel } from '../../core/kiln-model.js';
import { LayersKilnModel } from '../../formats/layers-model/layers-model-format.js';
import type { Logger } from '../../core/logger.js';
import { AVAILABLE, type OptimizationPlugin, type PluginContext } from '../../core/plugin.js';
import { Plugin } from '../../core/plugin-decorator.js';
import { FUSION_PATTERN, KILN_CONFIG, LOGGER, RUN_CONTAINER } from '../../core/tokens.js';
import { buildValidationInputs } from '../../core/validation/validation-inputs.js';
import { fuseGraph } from './graph-fusion.js';
import { LAYER_REWRITE_RULE_NAMES, rewriteLayers, SerializationGapError } from './layer-rewrite/index.js';

/**
 * The names `options.disable` may hold when a config is loaded: the layer rules, the
 * built-in kernel patterns, and patterns registered under FUSION_PATTERN in the root
 * container (by a `plugins:` module, which loadConfig imports first). A pattern
 * registered only in a child container is checked when the plugin runs.
 */
function fusionNamesKnownAtLoad(): readonly string[] {
  const registered = resolveAllByLevel<FusionPattern>(rootContainer, FUSION_PATTERN).flat();
  return [...new Set([...LAYER_REWRITE_RULE_NAMES, ...BUILT_IN_FUSION_PATTERNS.map((p) => p.name), ...registered.map((p) => p.name)])];
}

/** `options:` of the op-fusion plugin. */
export class OpFusionOptions {
  @Description('Where to fuse: `layers` (a stock LayersModel), `graph` (the compiled kernel graph), or `both`.')
  @IsOneOfValues(['both', 'layers', 'graph'])
  level: 'both' | 'layers' | 'graph' = 'both';

  @Description(
    'Layer rules or graph patterns to switch off by name (e.g. fold-batchnorm, fused-activation): the built-in ones, and patterns a `plugins:` module registered under FUSION_PATTERN.',
  )
  @IsStringList({ items: 'rule or pattern names', unique: true, oneOf: fusionNamesKnownAtLoad })
  disable: string[] = [];

  @Description('When the fused graph fails validation, find the pattern applications at fault by halving and drop only those.')
  @IsBooleanValue()
  bisect = true;
}

/**
 * Fusion, validated, at two levels. Layers: fold BatchNorm into the conv/dense
 * before it, merge lone Activation layers, drop inference no-ops, giving a stock
 * LayersModel. Graph: compile that model and apply the fusion patterns (BatchNorm
 * folding, bias and activation fusion, reshape/transpose chains), with bisection over
 * pattern sites when the result does not validate. Training mode keeps only the
 * gradient-exact graph patterns and no layer rewrite.
 */
@Plugin({
  name: 'op-fusion',
  kind: 'fusion',
  objective: 'latency',
  description: 'fold BatchNorm, fuse bias and activations into conv/matmul kernels, drop inference no-ops (layers and kernel graph)',
  optionsClass: OpFusionOptions,
})
export class OpFusionPlugin implements OptimizationPlugin<OpFusionOptions> {
  constructor(
    @inject(KILN_CONFIG) private readonly config: KilnConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RUN_CONTAINER) private readonly container: DependencyContainer,
  ) {}

  isAvailable() {
    return AVAILABLE;
  }

  async apply(target: KilnModel, context: PluginContext<OpFusionOptions>): Promise<KilnModel> {
    if (!isTfjsBackend(target.backend)) {
      context.note(`the model runs on ${target.backend}, outside tf.js: there are no tf.js layers or kernels to fuse`);
      return target;
    }
    const { level, disable, bisect } = context.options;
    const patterns = this.patterns();
    const known = [...LAYER_REWRITE_RULE_NAMES, ...patterns.map((p) => p.name)];
    const unknown = disable.filter((name) => !known.includes(name));
    if (unknown.length) throw new Error(`options.disable names no rule or pattern: ${unknown.join(', ')}; known: ${known.join(', ')}`);
    let base: KilnModel = target;
    let rewritten: LayersKilnModel | undefined;
    let rewrite: Awaited<ReturnType<typeof rewriteLayers>> | undefined;
    if (level !== 'graph' && context.mode === 'inference' && target.layersModel) {
      const source = target.layersModel;
      try {
        const storedQuantized = new Set(
          (sourceArtifactsOf(source)?.weightSpecs ?? []).filter((spec) => spec.quantization != null).map((spec) => spec.name),
        );
        rewrite = await withBackendAsync(target.backend, () => rewriteLayers(source, { disabled: disable, storedQuantized }));
      } catch (error) {
        if (!(error instanceof SerializationGapError)) throw error;
        context.note(`layers: ${error.message}`);
      }
    }
    if (rewrite) {
      const { model, report } = rewrite;
      context.metric('layersBefore', report.layersBefore);
      context.metric('layersAfter', report.layersAfter);
      for (const [rule, n] of Object.entries(report.perRule))
        if (n.matched) context.metric(`layers.${rule}`, `${n.applied}/${n.matched} applied`);
      for (const s of report.skipped) context.note(`layers: ${s.rule} not applied to ${s.layers.join(' + ')}: ${s.reason}`);
      // The rewrite saves with the source files' storage for every weight it left unchanged.
      if (report.applied.length)
        base = rewritten = new LayersKilnModel(
          inheritSourceArtifacts(model, target.layersModel!),
          target.backend,
          true,
          `fused LayersModel.predict on ${target.backend}`,
        );
      else model.dispose();
    } else if (level !== 'graph' && !(context.mode === 'inference' && target.layersModel)) {
      context.note(
        context.mode === 'training'
          ? 'layers: no layer rewrite in training mode (BatchNorm folding would change gradients)'
          : 'layers: the model has no LayersModel to rewrite',
      );
    }
    if (level === 'layers') return base;

    const checkSets = buildValidationInputs(context.sampleInputs, target.inputs, {
      samples: 2,
      seed: this.config.validation.seed + 17,
      largeMagnitude: this.config.validation.largeMagnitude,
    });
    try {
      // An already compiled model is fused from what it compiles, not traced through its replay.
      const fuseFrom = base === target && target instanceof CompiledModel ? target.source : base;
      const result = fuseGraph(
        fuseFrom,
        target,
        context.sampleInputs,
        checkSets.map((s) => s.inputs),
        {
          patterns,
          disabled: disable,
          mode: context.mode,
          tolerance: this.config.validation.tolerance,
          atol: this.config.validation.atol,
          rtol: this.config.validation.rtol,
          bisect,
          logger: this.logger,
        },
      );
      if ('failure' in result) {
        context.note(`graph: ${result.failure}`);
        return base;
      }
      for (const [pattern, n] of Object.entries(result.tally.matched))
        context.metric(`graph.${pattern}`, `${result.tally.applied[pattern] ?? 0}/${n} applied`);
      context.metric('kernelsBefore', result.kernelsBefore);
      context.metric('kernelsAfter', result.kernelsAfter);
      context.metric('fusionMaxAbsDiff', result.maxAbsDiff);
      for (const d of result.dropped) context.note(`bisection dropped ${d.key} (${d.layers.join(' + ') || 'no layer'}): ${d.reason}`);
      return result.model.withOwned(rewritten);
    } catch (error) {
      rewritten?.dispose();
      throw error;
    } finally {
      for (const s of checkSets) tf.dispose(s.inputs);
    }
  }

  /** Built-in patterns, then those registered under FUSION_PATTERN in this run's container chain. */
  private patterns(): FusionPattern[] {
    const extra = resolveAllByLevel<FusionPattern>(this.container, FUSION_PATTERN).flat();
    return [...BUILT_IN_FUSION_PATTERNS, ...extra];
  }
}
