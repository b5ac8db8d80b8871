/**
 * The `pipeline` check: the plugin alone through `optimize()`, a decision the pipeline
 * may give a conformant plugin, with a reason, and nothing left behind.
 */
import type * as tf from '@tensorflow/tfjs';
import { describeError } from '../core/errors.js';
import type { StockModel } from '../core/formats/model-format.js';
import type { Decision } from '../core/pipeline/report.js';
import { optimize } from '../optimize.js';
import { check, type ConformanceCheck } from './checks.js';
import { CollectingLogger, memory } from './measure.js';
import type { ConformanceOptions } from './options.js';
import type { PreparedPlugin } from './prepare-plugin.js';
import { WeightWatch } from './weight-watch.js';
import { plural } from './wording.js';

/** Statuses the pipeline may give a conformant plugin (besides `applied`): each needs a reason. */
const ACCEPTABLE_STATUSES: readonly string[] = ['applied', 'skipped', 'rejected', 'unavailable'];

/** The plugin alone through `optimize()` on the user's model (of any registered format): its decision, and nothing left behind once the result is disposed. */
export async function checkPipeline(
  plugin: PreparedPlugin,
  user: StockModel,
  samples: tf.Tensor[],
  options: ConformanceOptions,
): Promise<{ check: ConformanceCheck; decision?: Decision }> {
  const meta = plugin.meta!;
  const guard = WeightWatch.capture(user);
  const logger = new CollectingLogger();
  try {
    const before = memory();
    let decision: Decision | undefined;
    try {
      const { model, report } = await optimize(user.model, {
        sampleInputs: samples,
        config: plugin.rawConfig!,
        container: plugin.container!,
        logger,
      });
      decision = report.decisions.find((d) => d.plugin === meta.name);
      model.dispose();
    } catch (error) {
      return { check: check('pipeline', 'failed', `optimize() threw: ${describeError(error)}`) };
    }
    const after = memory();
    const problems: string[] = [];
    if (!decision) problems.push(`the report has no decision for ${meta.name}`);
    else {
      if (!ACCEPTABLE_STATUSES.includes(decision.status))
        problems.push(
          `the pipeline ${decision.status === 'failed' ? 'failed it' : `gave it status ${decision.status}`}: ${decision.reason}`,
        );
      else if (options.strictTolerance && decision.status === 'rejected' && decision.reason.startsWith('numerical mismatch')) {
        problems.push(
          `the pipeline rejected its result for leaving the tolerance (${decision.reason}); under strictTolerance a plugin checks its own result and throws CandidateRejectedError instead`,
        );
      }
      if (!decision.reason || decision.reason.trim() === '') problems.push(`its decision (${decision.status}) has no reason`);
    }
    if (after.tensors !== before.tensors || after.dataIds !== before.dataIds) {
      problems.push(
        `once the optimised model was disposed, ${plural(after.tensors - before.tensors, 'tensor')} and ${plural(after.dataIds - before.dataIds, 'backend buffer')} were still held`,
      );
    }
    const mutated = guard.changed();
    if (mutated.length) problems.push(`the user's weights changed: ${mutated.slice(0, 5).join(', ')}`);
    const summary = decision ? `${decision.status}: ${decision.reason}` : 'no decision';
    return {
      check: problems.length ? check('pipeline', 'failed', problems.join('; ')) : check('pipeline', 'passed', summary),
      ...(decision ? { decision } : {}),
    };
  } finally {
    guard.restore();
    guard.dispose();
  }
}
