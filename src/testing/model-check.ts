/**
 * Every model-level check on one model: the direct check of `apply` and the pipeline
 * check, merged (a drift the pipeline caught keeps the contract unless
 * `strictTolerance`), with the model, its samples and the active backend cleaned up after.
 */
import * as tf from '@tensorflow/tfjs';
import { activateBackend } from '../core/backend-scope.js';
import type { ZooName } from '../zoo/index.js';
import { check, MODEL_CHECK_IDS } from './checks.js';
import { checkDirect } from './direct-check.js';
import { buildModel, modelName } from './models.js';
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
  const { layers: user, samples } = await buildModel(model, options);
  try {
    const direct = await checkDirect(plugin, user, samples, options);
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
    try {
      user.dispose();
    } catch {
      // a non-conformant plugin may have disposed it already
    }
    if (activeBefore && tf.findBackend(activeBefore)) activateBackend(activeBefore);
  }
}
