import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import { Benchmarker, type BenchmarkResult } from '../benchmark/benchmarker.js';
import { CandidateRejectedError, describeError, KilnError } from '../errors.js';
import type { KilnModel } from '../kiln-model.js';
import type { OptimizationPlugin, PluginMeta } from '../plugin.js';
import { summariseOutcomes, type ValidationBudget } from '../validation/budget.js';
import type { ValidationResult } from '../validation/validator.js';
import { WeightGuard } from '../weight-guard.js';
import type { Decision, DecisionStatus } from './report.js';
import type { RunContext } from './run-context.js';
import { withTimeLimit } from './time-limit.js';
import { OBJECTIVE_JUDGES } from './trial/objectives.js';
import { round, TrialRecord } from './trial/trial-record.js';

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

/** A step that ends the trial: the status and reason it is rolled back with. */
class TrialStop {
  constructor(
    readonly status: DecisionStatus,
    readonly reason: string,
  ) {}
}

/**
 * Judges one candidate against the model the pipeline has so far: availability,
 * apply under its time limit, the user's weights untouched, numerical validation
 * against the reference, no leaks, and its objective (see trial/objectives.ts).
 * Anything short of all that is rolled back (the candidate disposed, the user's
 * weights restored). Each step either passes or throws a TrialStop.
 */
@injectable()
export class CandidateTrial {
  constructor(private readonly benchmarker: Benchmarker) {}

  async run(spec: CandidateSpec, current: KilnModel, run: RunContext): Promise<TrialOutcome> {
    const record = new TrialRecord(spec.slot, spec.meta);
    const unavailable = await this.checkAvailability(spec, run, record);
    if (unavailable) return { decision: unavailable };

    const guard = WeightGuard.capture(run.userModel.format.weights(run.userModel.model));
    const tensorsBefore = tf.memory().numTensors;
    let candidate: KilnModel | undefined;
    try {
      candidate = await this.apply(spec, current, run, record);
      checkWeights(guard);
      if (candidate === current) throw new TrialStop('skipped', record.notes.at(-1) ?? 'nothing to change');
      record.metrics.coldMs = round(this.benchmarker.timeOneCall(candidate, run.validation.sampleInputs));
      const { validation, budget } = validate(candidate, run, record);
      checkWeights(guard);
      const bench = this.benchmark(spec.meta, current, candidate, run, record);
      checkWeights(guard);
      const verdict = OBJECTIVE_JUDGES[spec.meta.objective]({
        current,
        candidate,
        bench,
        run,
        record,
        accuracy: accuracyPhrase(validation),
      });
      if (!verdict.met) throw new TrialStop('rejected', verdict.reason);
      return { decision: record.decide('applied', verdict.reason), model: candidate, budget };
    } catch (error) {
      const stop = error instanceof TrialStop ? error : new TrialStop('failed', describeError(error));
      if (candidate && candidate !== current) candidate.dispose();
      const leftOver = tf.memory().numTensors - tensorsBefore;
      if (leftOver > 0) record.notes.push(`${leftOver} tensor(s) were still held after the candidate was disposed`);
      return { decision: record.decide(stop.status, stop.reason) };
    } finally {
      guard.dispose();
    }
  }

  /** The plugin's own availability check; a decision when it is not available (or the check threw). */
  private async checkAvailability(spec: CandidateSpec, run: RunContext, record: TrialRecord): Promise<Decision | undefined> {
    try {
      const availability = await spec.plugin.isAvailable({ mode: run.mode });
      return availability.available ? undefined : record.decide('unavailable', availability.reason);
    } catch (error) {
      return record.decide('failed', `availability check threw: ${describeError(error)}`);
    }
  }

  /** `apply` under the candidate's time limit; a result that arrives after the limit is disposed. */
  private async apply(spec: CandidateSpec, current: KilnModel, run: RunContext, record: TrialRecord): Promise<KilnModel> {
    const started = performance.now();
    try {
      const candidate = await withTimeLimit(
        (signal) => spec.plugin.apply(current, record.pluginContext(spec.options, run, signal)),
        spec.timeLimitMs,
        `${spec.meta.name}.apply`,
        (late) => {
          if (late !== current) late.dispose();
        },
      );
      record.metrics.applyMs = round(performance.now() - started);
      return candidate;
    } catch (error) {
      if (error instanceof CandidateRejectedError) throw new TrialStop('rejected', error.message);
      const timedOut = error instanceof KilnError && error.code === 'TIME_LIMIT';
      throw new TrialStop('failed', timedOut ? `${describeError(error)}: rolled back` : `apply threw: ${describeError(error)}`);
    }
  }

  /** Times the candidate against the current model, interleaved; a leak fails it. */
  private benchmark(meta: PluginMeta, current: KilnModel, candidate: KilnModel, run: RunContext, record: TrialRecord): BenchmarkResult {
    const bench = this.benchmarker.compare(
      [
        { name: 'current', model: current },
        { name: meta.name, model: candidate },
      ],
      run.validation.sampleInputs,
      run.benchmark,
      (done, total) => run.onProgress?.(meta.name, done, total),
    );
    const [base, cand] = bench.variants as [(typeof bench.variants)[0], (typeof bench.variants)[0]];
    Object.assign(record.metrics, {
      baselineMedianMs: round(base.timing.medianMs),
      candidateMedianMs: round(cand.timing.medianMs),
      candidateP10Ms: round(cand.timing.p10Ms),
      candidateP90Ms: round(cand.timing.p90Ms),
      outliersDropped: cand.timing.outliersDropped,
      speedup: round(base.timing.medianMs / cand.timing.medianMs, 4),
    });
    if (cand.leakedTensorsPerCall > 0 || cand.leakedDataIdsPerCall > 0) {
      const what =
        cand.leakedTensorsPerCall > 0
          ? `${round(cand.leakedTensorsPerCall, 2)} tensor(s)`
          : `${round(cand.leakedDataIdsPerCall, 2)} backend buffer(s)`;
      throw new TrialStop('failed', `leaks ${what} per call (tf.memory().numTensors grows on every predict)`);
    }
    return bench;
  }
}

const MUTATED = "mutated the user's weights";

/** Every output on every input set against the reference, under the budget in force (the candidate's own, else the run's). */
function validate(
  candidate: KilnModel,
  run: RunContext,
  record: TrialRecord,
): { validation: ValidationResult; budget: ValidationBudget | undefined } {
  // A budget the candidate was made under (e.g. quantisation) replaces atol/rtol, for it and every later candidate.
  const budget = candidate.validationBudget ?? run.budget;
  const validation = run.validation.check(candidate, budget);
  const { metrics } = record;
  metrics.maxAbsDiff = validation.maxAbsDiff;
  for (const o of validation.budget ?? [])
    metrics[`budget.${o.output}.${o.term}`] = Number.isFinite(o.achieved) ? round(o.achieved) : String(o.achieved);
  metrics.inputSets = validation.inputSets.length;
  if (validation.gradients) metrics.gradientMaxAbsDiff = validation.gradients.maxAbsDiff;
  if (!validation.passed) {
    throw validation.error
      ? new TrialStop('failed', `validation could not run it: ${validation.reason}`)
      : new TrialStop('rejected', `numerical mismatch: ${validation.reason}`);
  }
  return { validation, budget };
}

/** `max |diff| 2.26e-6; within budget: ...`, for an applied decision's reason. */
function accuracyPhrase(validation: ValidationResult): string {
  const withinBudget = validation.budget?.length ? `; within budget: ${summariseOutcomes(validation.budget)}` : '';
  return `max |diff| ${validation.maxAbsDiff.toExponential(2)}${withinBudget}`;
}

/** Fails the trial when the user's weights changed, after restoring them. */
function checkWeights(guard: WeightGuard): void {
  const names = guard.changed();
  if (!names.length) return;
  const lost = guard.restore();
  const restored = lost.length ? `restored all but ${lost.join(', ')}` : 'their values were restored';
  throw new TrialStop(
    'failed',
    `${MUTATED} (${names.slice(0, 5).join(', ')}${names.length > 5 ? `, and ${names.length - 5} more` : ''}); ${restored}`,
  );
}
