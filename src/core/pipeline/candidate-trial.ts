import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import { Benchmarker, type BenchmarkResult } from '../benchmark/benchmarker.js';
import { CandidateRejectedError, describeError, KilnError } from '../errors.js';
import { runsSynchronously, type KilnModel } from '../kiln-model.js';
import type { OptimizationPlugin, PluginMeta } from '../plugin.js';
import { summariseOutcomes, type ValidationBudget } from '../validation/budget.js';
import type { ValidationResult } from '../validation/validator.js';
import { restoreBackend } from '../backend-scope.js';
import type { Decision, DecisionStatus } from './report.js';
import type { RunContext } from './run-context.js';
import { withTimeLimit } from './time-limit.js';
import { OBJECTIVE_JUDGES } from './trial/objectives.js';
import { ModelGuards } from './trial/model-guards.js';
import { shieldFromDispose } from './trial/shield.js';
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
  /** The candidate disposed weights of the model Kiln had kept: the caller must go back to an intact model. */
  readonly keptModelLost?: boolean;
}

/** A step that ends the trial: the status and reason it is rolled back with, and the error behind it. */
class TrialStop {
  constructor(
    readonly status: DecisionStatus,
    readonly reason: string,
    readonly cause?: unknown,
  ) {}
}

/** How long Kiln waits, after a candidate's apply, for a tf.js backend initialisation it left in flight. */
const BACKEND_SETTLE_MS = 10_000;

/**
 * Judges one candidate against the model the pipeline has so far: availability,
 * apply under its time limit, the user's weights and Kiln's kept model untouched,
 * numerical validation against the reference, no leaks, and its objective (see
 * trial/objectives.ts). Anything short of all that is rolled back (the candidate
 * disposed, the weights restored). Each step either passes or throws a TrialStop; a
 * throw from anywhere else, Kiln's own code included, is this candidate's `failed`.
 */
@injectable()
export class CandidateTrial {
  constructor(private readonly benchmarker: Benchmarker) {}

  async run(spec: CandidateSpec, current: KilnModel, run: RunContext): Promise<TrialOutcome> {
    const record = new TrialRecord(spec.slot, spec.meta);
    const home = run.homeBackend;
    await restoreBackend(home, BACKEND_SETTLE_MS);
    const unavailable = await this.checkAvailability(spec, run, record, home);
    if (unavailable) return { decision: unavailable };

    let guards: ModelGuards;
    try {
      guards = new ModelGuards(run.userModel, current);
    } catch (error) {
      return { decision: record.decide('failed', `Kiln could not read the weights it guards: ${describeError(error)}`, error) };
    }
    let candidate: KilnModel | undefined;
    const tensorsBefore = tf.memory().numTensors;
    let outcome: TrialOutcome;
    try {
      outcome = await this.judge(spec, current, run, record, guards, home, (made) => (candidate = made));
    } catch (error) {
      const stop = error instanceof TrialStop ? error : new TrialStop('failed', describeError(error), error);
      if (candidate && candidate !== current) candidate.dispose();
      const leftOver = tf.memory().numTensors - tensorsBefore;
      if (leftOver > 0) record.notes.push(`${leftOver} tensor(s) were still held after the candidate was disposed`);
      outcome = { decision: record.decide(stop.status, stop.reason, stop.cause) };
    }
    return this.afterGuards(outcome, guards, record, current);
  }

  /** The steps from apply to the objective; `made` learns the candidate as soon as there is one. */
  private async judge(
    spec: CandidateSpec,
    current: KilnModel,
    run: RunContext,
    record: TrialRecord,
    guards: ModelGuards,
    home: string,
    made: (candidate: KilnModel) => void,
  ): Promise<TrialOutcome> {
    const shielded = shieldFromDispose(current);
    const returned = await this.apply(spec, shielded, current, run, record, home);
    const candidate = returned === shielded ? current : returned;
    made(candidate);
    stopOnDamage(guards);
    if (candidate === current) throw new TrialStop('skipped', record.notes.at(-1) ?? 'nothing to change');
    record.metrics.coldMs = round(
      runsSynchronously(candidate)
        ? this.benchmarker.timeOneCall(candidate, run.validation.sampleInputs)
        : await this.benchmarker.timeOneCallAsync(candidate, run.validation.sampleInputs),
    );
    const { validation, budget } = await validate(candidate, run, record);
    stopOnDamage(guards);
    const bench = await this.benchmark(spec.meta, current, candidate, run, record);
    stopOnDamage(guards);
    const accuracy = accuracyPhrase(validation);
    const verdict = await OBJECTIVE_JUDGES[spec.meta.objective]({ current, candidate, bench, run, record, accuracy });
    if (!verdict.met) throw new TrialStop('rejected', verdict.reason);
    return { decision: record.decide('applied', verdict.reason), model: candidate, budget };
  }

  /**
   * Checks the guards once more whatever the outcome (a plugin may write into a model and
   * then throw): damage makes the decision `failed`, with the values restored; a kept model
   * whose weights were disposed is reported so the pipeline goes back to an intact one.
   */
  private afterGuards(outcome: TrialOutcome, guards: ModelGuards, record: TrialRecord, current: KilnModel): TrialOutcome {
    const finding = guards.check();
    guards.dispose();
    if (!finding) return outcome;
    if (outcome.model && outcome.model !== current) outcome.model.dispose();
    const { decision } = outcome;
    const reason = decision.reason.startsWith(finding.reason)
      ? decision.reason
      : `${finding.reason} (and: ${decision.status}: ${decision.reason})`;
    return { decision: record.decide('failed', reason, decision.cause), keptModelLost: finding.keptModelLost };
  }

  /** The plugin's own availability check, under its time limit; a decision when it is not available (or the check threw). */
  private async checkAvailability(spec: CandidateSpec, run: RunContext, record: TrialRecord, home: string): Promise<Decision | undefined> {
    try {
      const availability = await withTimeLimit(
        async () => spec.plugin.isAvailable({ mode: run.mode }),
        spec.timeLimitMs,
        `${spec.meta.name}.isAvailable`,
        () => undefined,
      );
      return availability.available ? undefined : record.decide('unavailable', availability.reason);
    } catch (error) {
      const timedOut = error instanceof KilnError && error.code === 'TIME_LIMIT';
      return record.decide('failed', timedOut ? describeError(error) : `availability check threw: ${describeError(error)}`, error);
    } finally {
      await restoreBackend(home, BACKEND_SETTLE_MS);
    }
  }

  /**
   * `apply` under the candidate's time limit; a result that arrives after the limit is
   * disposed. tf.js is put back on the backend it was on afterwards, once any backend
   * initialisation the plugin left in flight has settled.
   */
  private async apply(
    spec: CandidateSpec,
    target: KilnModel,
    current: KilnModel,
    run: RunContext,
    record: TrialRecord,
    home: string,
  ): Promise<KilnModel> {
    const started = performance.now();
    try {
      const candidate = await withTimeLimit(
        (signal) => spec.plugin.apply(target, record.pluginContext(spec.options, run, signal)),
        spec.timeLimitMs,
        `${spec.meta.name}.apply`,
        (late) => {
          if (late !== target && late !== current) late.dispose();
        },
      );
      record.metrics.applyMs = round(performance.now() - started);
      return candidate;
    } catch (error) {
      if (error instanceof CandidateRejectedError) throw new TrialStop('rejected', error.message, error);
      const timedOut = error instanceof KilnError && error.code === 'TIME_LIMIT';
      throw new TrialStop('failed', timedOut ? `${describeError(error)}: rolled back` : `apply threw: ${describeError(error)}`, error);
    } finally {
      await restoreBackend(home, BACKEND_SETTLE_MS);
    }
  }

  /** Times the candidate against the current model, interleaved (awaiting each call of a model that runs only asynchronously); a leak fails it. */
  private async benchmark(
    meta: PluginMeta,
    current: KilnModel,
    candidate: KilnModel,
    run: RunContext,
    record: TrialRecord,
  ): Promise<BenchmarkResult> {
    const subjects = [
      { name: 'current', model: current },
      { name: meta.name, model: candidate },
    ];
    const settings = { ...run.benchmark, decideAt: run.minSpeedup };
    const progress = (done: number, total: number) => run.onProgress?.(meta.name, done, total);
    const bench = subjects.every((s) => runsSynchronously(s.model))
      ? this.benchmarker.compare(subjects, run.validation.sampleInputs, settings, progress)
      : await this.benchmarker.compareAsync(subjects, run.validation.sampleInputs, settings, progress);
    const [base, cand] = bench.variants as [(typeof bench.variants)[0], (typeof bench.variants)[0]];
    Object.assign(record.metrics, {
      baselineMedianMs: round(base.timing.medianMs),
      candidateMedianMs: round(cand.timing.medianMs),
      candidateP10Ms: round(cand.timing.p10Ms),
      candidateP90Ms: round(cand.timing.p90Ms),
      outliersDropped: cand.timing.outliersDropped,
      speedup: round(base.timing.medianMs / cand.timing.medianMs, 4),
      benchmarkRuns: bench.iterations,
      benchmarkStoppedBy: bench.stoppedBy,
      ...(bench.ratio ? { speedupLow: round(bench.ratio.low, 4), speedupHigh: round(bench.ratio.high, 4) } : {}),
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

/** Every output on every input set against the reference, under the budget in force (the candidate's own, else the run's). */
async function validate(
  candidate: KilnModel,
  run: RunContext,
  record: TrialRecord,
): Promise<{ validation: ValidationResult; budget: ValidationBudget | undefined }> {
  // A budget the candidate was made under (e.g. quantisation) replaces atol/rtol, for it and every later candidate.
  const budget = candidate.validationBudget ?? run.budget;
  const validation = runsSynchronously(candidate)
    ? run.validation.check(candidate, budget)
    : await run.validation.checkAsync(candidate, budget);
  const { metrics } = record;
  metrics.maxAbsDiff = validation.maxAbsDiff;
  for (const o of validation.budget ?? [])
    metrics[`budget.${o.output}.${o.term}`] = Number.isFinite(o.achieved) ? round(o.achieved) : String(o.achieved);
  // The default scale-aware check: the worst output's max |diff| as a share of its scale.
  const scaled = validation.budget ? [] : (validation.outcomes ?? []).filter((o) => o.term === 'scaledMaxAbsDiff');
  if (scaled.length) metrics.maxAbsDiffOfScale = round(Math.max(...scaled.map((o) => o.achieved)));
  metrics.inputSets = validation.inputSets.length;
  if (validation.gradients) metrics.gradientMaxAbsDiff = validation.gradients.maxAbsDiff;
  if (!validation.passed) {
    throw validation.error
      ? new TrialStop('failed', `validation could not run it: ${validation.reason}`)
      : new TrialStop('rejected', `numerical mismatch: ${validation.reason}`);
  }
  return { validation, budget };
}

/**
 * What was compared, for an applied decision's reason: `max |diff| 2.26e-6; within
 * budget: ...` under a budget; each output's `SR max |diff| 4.4e-5 = 1.6e-7 of the output
 * scale 277 (allowed 0.0001 of scale)` under the scale-aware default; `max |diff| 2.26e-6
 * (element-wise within atol/rtol)` otherwise.
 */
function accuracyPhrase(validation: ValidationResult): string {
  if (validation.budget?.length)
    return `max |diff| ${validation.maxAbsDiff.toExponential(2)}; within budget: ${summariseOutcomes(validation.budget)}`;
  if (validation.outcomes?.length) return summariseOutcomes(validation.outcomes);
  return `max |diff| ${validation.maxAbsDiff.toExponential(2)} (element-wise within atol/rtol)`;
}

/** Ends the trial when a guarded model changed (the values are restored by the final check). */
function stopOnDamage(guards: ModelGuards): void {
  const finding = guards.check();
  if (finding) throw new TrialStop('failed', finding.reason);
}
