/**
 * Every model-level check on one model, of any registered format: the direct check of
 * `apply` and the pipeline check, merged (a drift the pipeline caught keeps the contract
 * unless `strictTolerance`), with the model, its samples and the active backend cleaned up after.
 */
import * as tf from '@tensorflow/tfjs';
import { activateBackend } from '../core/backend-scope.js';
import { describeError } from '../core/errors.js';
import { FormatRegistry } from '../core/formats/format-registry.js';
import type { StockModel } from '../core/formats/model-format.js';
import type { ZooName } from '../zoo/index.js';
import { check, MODEL_CHECK_IDS } from './checks.js';
import { checkDirect } from './direct-check.js';
import { buildStockModel, modelName, sampleInputsFor } from './models.js';
import type { ConformanceModel, ConformanceOptions } from './options.js';
import { checkPipeline } from './pipeline-check.js';
import type { PreparedPlugin } from './prepare-plugin.js';
import type { ModelConformance } from './report.js';

export async function checkModel(
  plugin: PreparedPlugin,
  model: ZooName | ConformanceModel,
  options: ConformanceOptions,
): Promise<ModelConformance> {
  const name = modelName(model);
  if (plugin.blocked || !plugin.meta || !plugin.config || !plugin.container) {
    const why = `not checked: ${plugin.blocked ?? 'the plugin could not be prepared'}`;
    return {
      model: name,
      checks: MODEL_CHECK_IDS.map((id) =>
        check(id, plugin.blocked?.startsWith('the plugin is not registered') ? 'failed' : 'skipped', why),
      ),
      applied: 'not run',
      notes: [],
    };
  }
  const activeBefore = tf.getBackend();
  // The formats the run sees: those registered in the plugin's container and its ancestors.
  const formats = new FormatRegistry(plugin.container);
  let user: StockModel;
  let samples: tf.Tensor[];
  try {
    user = await buildStockModel(model, options, formats);
  } catch (error) {
    const why = `the model "${name}" could not be built as a model of a registered format: ${describeError(error)}`;
    return { model: name, checks: MODEL_CHECK_IDS.map((id) => check(id, 'failed', why)), applied: 'not run', notes: [] };
  }
  try {
    samples = sampleInputsFor(model, user, options);
  } catch (error) {
    disposeBuilt(user);
    const why = `no sample inputs for the model "${name}": ${describeError(error)}`;
    return { model: name, checks: MODEL_CHECK_IDS.map((id) => check(id, 'failed', why)), applied: 'not run', notes: [] };
  }
  try {
    const direct = await checkDirect(plugin, user, samples, options);
    if (direct.userLost.length && options.pipeline !== false) {
      // The plugin left weights the kit cannot write back: the pipeline check gets the model afresh.
      disposeBuilt(user);
      user = await buildStockModel(model, options, formats);
    }
    const pipeline =
      options.pipeline === false
        ? { check: check('pipeline', 'skipped', 'not asked for (options.pipeline is false)') }
        : await checkPipeline(plugin, user, samples, options);
    const decision = pipeline.decision;
    const caught = direct.drift && !options.strictTolerance && decision?.status === 'rejected' && decision.reason.trim() !== '';
    const checks = MODEL_CHECK_IDS.map((id) => {
      if (id === 'pipeline') return pipeline.check;
      if (id === 'tolerance' && caught)
        return check('tolerance', 'passed', `${direct.drift}; the pipeline rejected it: ${decision.reason}`);
      return direct.checks.find((c) => c.id === id)!;
    });
    return {
      model: name,
      checks,
      ...(pipeline.decision ? { decision: pipeline.decision } : {}),
      applied: direct.applied,
      notes: direct.notes,
    };
  } finally {
    tf.dispose(samples);
    disposeBuilt(user);
    if (activeBefore && tf.findBackend(activeBefore)) activateBackend(activeBefore);
  }
}

/** Frees a model the kit built, through its format. */
function disposeBuilt(user: StockModel): void {
  try {
    user.format.dispose(user.model);
  } catch {
    // a non-conformant plugin may have disposed it already
  }
}
