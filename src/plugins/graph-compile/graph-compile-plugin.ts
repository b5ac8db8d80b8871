import { isTfjsBackend } from '../../core/backend-scope.js';
import { inject } from 'tsyringe';
import { CompiledModel } from '../../compiler/api/compiled-model.js';
import { Description } from '../../config/description.js';
import { IsNumberInRange, IsOneOfValues, IsStringList } from '../../config/validators.js';
import type { KilnModel } from '../../core/kiln-model.js';
import type { Logger } from '../../core/logger.js';
import { AVAILABLE, type OptimizationPlugin, type PluginContext } from '../../core/plugin.js';
import { Plugin } from '../../core/plugin-decorator.js';
import type { ExecutorChoice } from '../../compiler/executors/executor.js';
import { executorNames } from '../../compiler/executors/registry.js';
import { PASS_NAMES } from '../../compiler/passes/index.js';
import { LOGGER } from '../../core/tokens.js';

/** `options:` of the graph-compile plugin. */
export class GraphCompileOptions {
  @Description('Passes to switch off by name.')
  @IsStringList({ items: 'pass names', unique: true, pattern: /^(dead-code|cse|constant-folding|noop-removal|memory-plan)$/ })
  disablePasses: string[] = [];

  @Description(
    '`auto` measures replay against the other registered executors (direct kernel calls) at compile time and keeps the fastest; `replay`, `direct` (or another registered executor) forces one.',
  )
  @IsOneOfValues(['auto', ...executorNames()])
  executor: ExecutorChoice = 'auto';

  @Description('Signatures (input shapes) compiled at most; past it, new signatures run eagerly (with one warning).')
  @IsNumberInRange({ integer: true, min: 1, max: 64 })
  recompileLimit = 8;
}

/**
 * Kiln's torch.compile inside the pipeline: traces the current model's predict to a
 * kernel graph on the sample inputs (so breaks surface now), optimises it, and
 * replays it lean. A graph break leaves the model as it was (`skipped`, with the
 * reason); the pipeline's validation and benchmark judge the rest.
 */
@Plugin({
  name: 'graph-compile',
  kind: 'compile',
  objective: 'latency',
  description: `trace predict to a kernel graph, run passes (${PASS_NAMES.join(', ')}), replay it without the Layers overhead`,
  optionsClass: GraphCompileOptions,
})
export class GraphCompilePlugin implements OptimizationPlugin<GraphCompileOptions> {
  constructor(@inject(LOGGER) private readonly logger: Logger) {}

  isAvailable() {
    return AVAILABLE;
  }

  async apply(target: KilnModel, context: PluginContext<GraphCompileOptions>): Promise<KilnModel> {
    if (!isTfjsBackend(target.backend)) {
      context.note(`the model runs on ${target.backend}, outside tf.js: there are no tf.js kernels to compile`);
      return target;
    }
    const compiled = new CompiledModel(target, {
      mode: context.mode,
      disablePasses: context.options.disablePasses,
      executor: context.options.executor,
      recompileLimit: context.options.recompileLimit,
      sampleInputs: [...context.sampleInputs],
      logger: this.logger,
    });
    const stats = compiled.stats();
    const eager = stats.eager[0];
    if (eager) {
      compiled.dispose();
      context.note(eager.reason);
      return target;
    }
    const plan = stats.compiled[0]!;
    context.metric('kernelsTraced', plan.kernelsTraced);
    context.metric('kernelsAfterPasses', plan.kernelsAfterPasses);
    context.metric('compileMs', Number(plan.compileMs.toFixed(1)));
    context.metric('executor', plan.executor);
    if (plan.breakEvenCalls !== undefined)
      context.metric('breakEvenCalls', Number.isFinite(plan.breakEvenCalls) ? plan.breakEvenCalls : 'never');
    for (const p of plan.passes) if (p.changes > 0) context.note(`${p.pass}: ${p.detail}`);
    context.note(`executor: ${plan.executorReason}`);
    return compiled;
  }
}
