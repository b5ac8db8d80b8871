import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import { Benchmarker } from '../benchmark/benchmarker.js';
import { CandidateRejectedError, describeError, KilnError } from '../errors.js';
import type { KilnModel } from '../kiln-model.js';
import type { OptimizationPlugin, PluginContext, PluginMeta } from '../plugin.js';
import { summariseOutcomes, type ValidationBudget } from '../validation/budget.js';
import { WeightGuard } from '../weight-guard.js';
import { modelBytes } from './model-bytes.js';
import type { Decision, DecisionStatus, MetricValue } from './report.js';
import type { RunContext } from './run-context.js';
import { withTimeLimit } from './time-limit.js';

export interface CandidateSpec {
  readonly slot: number;
  readonly meta: PluginMeta;
  readonly plugin: OptimizationPlugin<object>;
  readonly options: object;
  readonly timeLimitMs: number;
}

export interface TrialOutcome {
  readonly decision: Decision;
  /** The candidate's model when `applied`; the caller then owns it. */
  readonly model?: KilnModel;
  /** The accuracy budget it was validated under, when one was in force; it then holds for later candidates. */
  readonly budget?: ValidationBudget;
}

/**
 * Judges one candidate against the model the pipeline has so far: availability,
 * apply under its time limit, the user's weights untouched, numerical validation
 * against the reference, no leaks, and its objective. Anything short of all that is
 * rolled back (the candidate disposed, the user's weights restored).
 */
@injectable()
export class CandidateTrial {
  constructor(private readonly benchmarker: Benchmarker) {}

  async run(spec: CandidateSpec, current: KilnModel, run: RunContext): Promise<TrialOutcome> {
    const { meta } = spec;
    const notes: string[] = [];
    const metrics: Record<string, MetricValue> = {};
    const tables: Record<string, readonly Record<string, MetricValue>[]> = {};
    const decide = (status: DecisionStatus, reason: string): Decision => ({
      slot: spec.slot, plugin: meta.name, kind: meta.kind, objective: meta.objective, status, reason, metrics, notes,
      ...(Object.keys(tables).length ? { tables } : {}),
    });
    const makeContext = (signal: AbortSignal): PluginContext<object> => ({
      options: spec.options,
      mode: run.mode,
      sampleInputs: run.sampleInputs,
      signal,
      note: (message) => notes.push(message),
      metric: (name, value) => { metrics[name] = value; },
      table: (name, rows) => { tables[name] = rows.map((row) => ({ ...row })); },
      validation: { inputSets: run.validation.inputSetLabels, check: (model, budget) => run.validation.check(model, budget ?? run.budget) },
    });

    try {
      const availability = await spec.plugin.isAvailable({ mode: run.mode });
      if (!availability.available) return { decision: decide('unavailable', availability.reason) };
    } catch (error) {
      return { decision: decide('failed', `availability check threw: ${describeError(error)}`) };
    }

    const guard = WeightGuard.capture(run.userModel);
    const tensorsBefore = tf.memory().numTensors;
    let candidate: KilnModel | undefined;
    const rollBack = (status: DecisionStatus, reason: string): TrialOutcome => {
      if (candidate && candidate !== current) candidate.dispose();
      const leftOver = tf.memory().numTensors - tensorsBefore;
      if (leftOver > 0 && status !== 'applied') notes.push(`${leftOver} tensor(s) were still held after the candidate was disposed`);
      return { decision: decide(status, reason) };
    };
    try {
      const started = performance.now();
      try {
        candidate = await withTimeLimit((signal) => spec.plugin.apply(current, makeContext(signal)), spec.timeLimitMs, `${meta.name}.apply`, (late) => {
          if (late !== current) late.dispose();
        });
      } catch (error) {
        if (error instanceof CandidateRejectedError) return rollBack('rejected', error.message);
        const timedOut = error instanceof KilnError && error.code === 'TIME_LIMIT';
        return rollBack('failed', timedOut ? `${describeError(error)}: rolled back` : `apply threw: ${describeError(error)}`);
      }
      metrics.applyMs = round(performance.now() - started);

      const mutated = guard.changed();
      if (mutated.length) return rollBack('failed', mutatedReason(mutated, guard));
      if (candidate === current) return rollBack('skipped', notes.at(-1) ?? 'nothing to change');

      metrics.coldMs = round(this.benchmarker.timeOneCall(candidate, run.validation.sampleInputs));

      // A budget the candidate was made under (e.g. quantisation) replaces atol/rtol, for it and every later candidate.
      const budget = candidate.validationBudget ?? run.budget;
      const validation = run.validation.check(candidate, budget);
      metrics.maxAbsDiff = validation.maxAbsDiff;
      for (const o of validation.budget ?? []) metrics[`budget.${o.output}.${o.term}`] = Number.isFinite(o.achieved) ? round(o.achieved) : String(o.achieved);
      const withinBudget = validation.budget?.length ? `; within budget: ${summariseOutcomes(validation.budget)}` : '';
      metrics.inputSets = validation.inputSets.length;
      if (validation.gradients) metrics.gradientMaxAbsDiff = validation.gradients.maxAbsDiff;
      const afterValidation = guard.changed();
      if (afterValidation.length) return rollBack('failed', mutatedReason(afterValidation, guard));
      if (!validation.passed) {
        return validation.error ? rollBack('failed', `validation could not run it: ${validation.reason}`) : rollBack('rejected', `numerical mismatch: ${validation.reason}`);
      }

      const bench = this.benchmarker.compare(
        [{ name: 'current', model: current }, { name: meta.name, model: candidate }],
        run.validation.sampleInputs,
        run.benchmark,
        (done, total) => run.onProgress?.(meta.name, done, total),
      );
      const [base, cand] = bench.variants as [typeof bench.variants[0], typeof bench.variants[0]];
      const speedup = base.timing.medianMs / cand.timing.medianMs;
      Object.assign(metrics, {
        baselineMedianMs: round(base.timing.medianMs),
        candidateMedianMs: round(cand.timing.medianMs),
        candidateP10Ms: round(cand.timing.p10Ms),
        candidateP90Ms: round(cand.timing.p90Ms),
        outliersDropped: cand.timing.outliersDropped,
        speedup: round(speedup, 4),
      });
      if (cand.leakedTensorsPerCall > 0 || cand.leakedDataIdsPerCall > 0) {
        const what = cand.leakedTensorsPerCall > 0 ? `${round(cand.leakedTensorsPerCall, 2)} tensor(s)` : `${round(cand.leakedDataIdsPerCall, 2)} backend buffer(s)`;
        return rollBack('failed', `leaks ${what} per call (tf.memory().numTensors grows on every predict)`);
      }
      const afterBench = guard.changed();
      if (afterBench.length) return rollBack('failed', mutatedReason(afterBench, guard));

      if (meta.objective === 'latency') {
        if (!(speedup >= run.minSpeedup)) {
          return rollBack('rejected', `not faster: ${speedup.toFixed(2)}x, below the required ${run.minSpeedup}x (median ${base.timing.medianMs.toFixed(3)} ms before, ${cand.timing.medianMs.toFixed(3)} ms after)`);
        }
        return { decision: decide('applied', `${speedup.toFixed(2)}x faster (median ${base.timing.medianMs.toFixed(3)} -> ${cand.timing.medianMs.toFixed(3)} ms), max |diff| ${validation.maxAbsDiff.toExponential(2)}${withinBudget}`), model: candidate, budget };
      }
      const before = modelBytes(current);
      const after = modelBytes(candidate);
      const gain = before / after;
      Object.assign(metrics, { bytesBefore: before, bytesAfter: after, sizeGain: round(gain, 3) });
      if (!(gain >= run.minSizeGain)) {
        return rollBack('rejected', `not smaller: ${gain.toFixed(2)}x (${before} -> ${after} bytes), below the required ${run.minSizeGain}x`);
      }
      return { decision: decide('applied', `${gain.toFixed(2)}x smaller (${before} -> ${after} bytes), max |diff| ${validation.maxAbsDiff.toExponential(2)}${withinBudget}`), model: candidate, budget };
    } catch (error) {
      return rollBack('failed', `${describeError(error)}`);
    } finally {
      guard.dispose();
    }
  }
}

function mutatedReason(names: string[], guard: WeightGuard): string {
  const lost = guard.restore();
  const restored = lost.length ? `restored all but ${lost.join(', ')}` : 'their values were restored';
  return `mutated the user's weights (${names.slice(0, 5).join(', ')}${names.length > 5 ? `, and ${names.length - 5} more` : ''}); ${restored}`;
}

function round(x: number, digits = 4): number {
  return Number(x.toPrecision(digits));
}
