import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import type { KilnConfig } from '../../config/kiln-config.js';
import { Benchmarker } from '../benchmark/benchmarker.js';
import { describeError, InputError, OptimizationFailedError } from '../errors.js';
import { outputsAsArray, runsSynchronously, type KilnModel } from '../kiln-model.js';
import type { Logger } from '../logger.js';
import { PluginRegistry } from '../plugin-registry.js';
import { backendOfTensor } from '../tensor-backend.js';
import { KILN_CONFIG, LOGGER } from '../tokens.js';
import { checkSampleInputs } from '../validation/validation-inputs.js';
import { bindInputSamples, inputEntriesFromConfig, sampleInputsFor } from '../validation/input-samples.js';
import { Validator, type LossFunction, type ValidationSession } from '../validation/validator.js';
import { describeBudget, type ValidationBudget } from '../validation/budget.js';
import { defaultTerms, describeTerms } from '../validation/tolerance.js';
import { EngineManager } from '../engines/engine-manager.js';
import { EngineRegistry } from '../engines/engine-registry.js';
import { FormatRegistry } from '../formats/format-registry.js';
import type { StockModel } from '../formats/model-format.js';
import { CandidateTrial } from './candidate-trial.js';
import { OptimizedModel } from './optimized-model.js';
import { SourceWeightsGuard } from './source-weights-guard.js';
import { planSlots, type PlannedSlot } from './plan-slots.js';
import type { Decision, EndToEnd, KilnReport } from './report.js';
import type { RunContext } from './run-context.js';
import { KILN_VERSION } from '../version.js';
import { activateBackend, isTfjsBackend } from '../backend-scope.js';
import { guardBackendSwitches } from './expired-work.js';
import { runShapeProfile, samplesAtBatch } from './shape-profile.js';

/** Events for progress displays. */
export interface PipelineObserver {
  candidateStarted?(plugin: string, slot: string): void;
  benchmarkProgress?(label: string, done: number, total: number): void;
  decided?(decision: Decision): void;
}

export interface PipelineRunOptions {
  /** One tensor per model input; seeded generated inputs (batch 1, or as the config's `inputs:` says) when absent. Not disposed by Kiln. */
  readonly sampleInputs?: readonly tf.Tensor[];
  /**
   * Where no `sampleInputs` are given: makes the sample inputs at a batch size (that of a
   * `shapes:` entry; undefined without `shapes:`). Kiln disposes what it returns. Absent:
   * seeded generated inputs as the config's `inputs:` says.
   */
  readonly samplesAt?: (batch: number | undefined) => tf.Tensor[];
  readonly observer?: PipelineObserver;
  /** Loss whose gradients the training-mode check compares (default: a seeded weighted sum of the outputs). */
  readonly loss?: LossFunction;
}

/** What the slots of one run share and change: the model so far, the models kept, the decisions. */
interface RunState {
  run: RunContext;
  /** The user's model on cpu: what the run starts from and falls back to. */
  readonly baseline: KilnModel;
  current: KilnModel;
  readonly kept: KilnModel[];
  /** Which decision kept each model of `kept`. */
  readonly keptBy: Map<KilnModel, Decision>;
  readonly decisions: Decision[];
  /**
   * The user's model on cpu as timed by the first candidate compared against it (the
   * backend slot's), for the end-to-end figure against cpu: a slow model (seconds a
   * call at a large batch) is not timed again.
   */
  cpuTiming?: CpuTiming;
}

/** The cpu baseline's median, and the comparison it was timed in. */
interface CpuTiming {
  readonly medianMs: number;
  readonly runs: number;
  readonly plugin: string;
}

export interface OptimizationResult {
  readonly model: OptimizedModel;
  readonly report: KilnReport;
}

/**
 * Runs the slots in order; in each, the candidates in order of preference until one
 * is kept (see CandidateTrial for what "kept" takes). Resolved from a child container
 * per run, so the config, logger and plugins it sees are that run's.
 */
@injectable()
export class Pipeline {
  constructor(
    @inject(KILN_CONFIG) private readonly config: KilnConfig,
    @inject(LOGGER) private readonly logger: Logger,
    private readonly registry: PluginRegistry,
    private readonly validator: Validator,
    private readonly benchmarker: Benchmarker,
    private readonly trial: CandidateTrial,
    private readonly engines: EngineManager,
    private readonly engineRegistry: EngineRegistry,
    private readonly formats: FormatRegistry,
  ) {}

  /**
   * Optimises `userModel`, a model of any registered format (a `tf.LayersModel` with the
   * built-ins); a model no format owns is an InputError naming the formats Kiln takes.
   * With `shapes:` of several batch sizes, one run per batch size and a model that
   * dispatches on the batch of each call (see `runShapeProfile`).
   */
  async run(userModel: object, options: PipelineRunOptions = {}): Promise<OptimizationResult> {
    const profile = this.config.shapes ?? [];
    if (profile.length <= 1) return this.runAt(userModel, options, profile[0]);
    const source = this.formats.stockModelOf(userModel);
    const specs = source.format.wrap(source.model, tf.getBackend(), false).inputs;
    return runShapeProfile(profile, specs, this.config.mode, (batch) => {
      this.logger.info(`shape profile: batch ${batch}`);
      return this.runAt(userModel, options, batch);
    });
  }

  /** One pipeline run; at `batch` rows (a `shapes:` entry), else at the samples' own batch. */
  private async runAt(userModel: object, options: PipelineRunOptions, batch: number | undefined): Promise<OptimizationResult> {
    const startedAt = new Date();
    const config = this.config;
    const activeBackend = tf.getBackend();
    const source = this.formats.stockModelOf(userModel);
    const slots = planSlots(config, this.registry);
    await this.startReference();

    const baseline = source.format.wrap(source.model, 'cpu', false, `plain tf.js: ${baselineCall(source)} on cpu`);
    if (config.mode === 'training' && baseline.trainableVariables().length === 0) {
      throw new InputError(
        `mode is training, but the ${source.format.displayName} has no trainable weights to check gradients of` +
          (source.format.name === 'graph-model' ? ' (graph models are inference-only: their weights are constants)' : '') +
          '. Run Kiln with mode: inference (the config key `mode`).',
      );
    }
    // Kiln's own sample inputs (made here, or rows of the user's at a profile batch) are freed at the end.
    const synthetic = options.sampleInputs === undefined || batch !== undefined;
    if (options.sampleInputs) checkSampleInputs(options.sampleInputs, baseline.inputs);
    const samples = options.sampleInputs
      ? batch === undefined
        ? [...options.sampleInputs]
        : samplesAtBatch(options.sampleInputs, baseline.inputs, batch)
      : options.samplesAt
        ? options.samplesAt(batch)
        : sampleInputsFor(baseline.inputs, {
            seed: config.validation.seed,
            ...(batch !== undefined ? { batch, everyInputAtBatch: true } : {}),
            inputs: bindInputSamples(baseline.inputs, [inputEntriesFromConfig(config.inputs)]),
          });
    let session: ValidationSession | undefined;
    const kept: KilnModel[] = [];
    const unguard = guardBackendSwitches(this.logger);
    try {
      checkSampleInputs(samples, baseline.inputs);
      session = this.validator.prepare(baseline, samples, { ...config.validation, loss: options.loss }, config.mode);
      const run = this.runContext(source, samples, session, options);
      const state: RunState = { run, baseline, current: baseline, kept, keptBy: new Map(), decisions: [] };
      const reportSoFar = () => this.report(source, startedAt, state.decisions, baseline, session, undefined);
      for (const [index, slot] of slots.entries()) await this.runSlot(index, slot, state, options.observer, reportSoFar);
      const { current, decisions } = state;
      const final = current !== baseline ? await checkFinalModel(state, session, reportSoFar) : undefined;
      const endToEnd =
        current !== baseline && config.benchmark.endToEnd ? await this.endToEnd(state, session, options.observer) : undefined;
      const report = this.report(source, startedAt, decisions, current, session, endToEnd, state.run.budget, final);
      const follows = current.stock?.model === source.model;
      const guard = follows ? undefined : new SourceWeightsGuard(source, current.description);
      return { model: new OptimizedModel(current, kept, report.backend, guard), report };
    } catch (error) {
      for (const model of kept.reverse()) model.dispose();
      throw error;
    } finally {
      unguard();
      session?.dispose();
      if (synthetic) tf.dispose(samples);
      // Leave tf.js on the backend it was on; the optimised model switches on its first call.
      if (activeBackend && tf.findBackend(activeBackend)) activateBackend(activeBackend);
    }
  }

  private runContext(userModel: StockModel, samples: tf.Tensor[], session: ValidationSession, options: PipelineRunOptions): RunContext {
    const { config } = this;
    return {
      mode: config.mode,
      homeBackend: tf.getBackend(),
      userModel,
      sampleInputs: samples,
      validation: session,
      benchmark: config.benchmark,
      minSpeedup: config.benchmark.minSpeedup,
      minSizeGain: config.benchmark.minSizeGain,
      onProgress: options.observer?.benchmarkProgress?.bind(options.observer),
    };
  }

  /**
   * The candidates of one slot in order, until one is kept (it becomes `state.current`);
   * the rest are skipped. Under `fallback: false` the first failed or rejected candidate
   * ends the run with the report so far (`reportSoFar`).
   */
  private async runSlot(
    index: number,
    slot: PlannedSlot,
    state: RunState,
    observer: PipelineObserver | undefined,
    reportSoFar: () => KilnReport,
  ): Promise<void> {
    let winner: string | undefined;
    for (const candidate of slot.candidates) {
      const meta = this.registry.get(candidate.name).meta;
      let decision: Decision;
      if (winner) {
        decision = {
          slot: index,
          plugin: meta.name,
          kind: meta.kind,
          objective: meta.objective,
          status: 'skipped',
          reason: `slot ${slot.label} already uses ${winner}`,
          metrics: {},
          notes: [],
        };
      } else {
        observer?.candidateStarted?.(meta.name, slot.label);
        const before = state.current;
        const outcome = await this.tryCandidate(index, candidate, meta, state.current, state.run);
        decision = outcome.decision;
        const { baselineMedianMs, benchmarkRuns } = decision.metrics;
        if (!state.cpuTiming && before === state.baseline && typeof baselineMedianMs === 'number' && typeof benchmarkRuns === 'number')
          state.cpuTiming = { medianMs: baselineMedianMs, runs: benchmarkRuns, plugin: meta.name };
        if (outcome.model) {
          if (outcome.budget) state.run = { ...state.run, budget: outcome.budget };
          state.kept.push(outcome.model);
          state.keptBy.set(outcome.model, decision);
          state.current = outcome.model;
          winner = meta.name;
        }
        if (outcome.keptModelLost) goBackToIntactModel(state, meta.name);
      }
      state.decisions.push(decision);
      observer?.decided?.(decision);
      this.logger.info(`${decision.plugin}: ${decision.status}: ${decision.reason}`);
      if (!this.config.fallback && (decision.status === 'failed' || decision.status === 'rejected')) {
        throw new OptimizationFailedError(
          `${decision.plugin} ${decision.status}: ${decision.reason} (fallback is off, so Kiln stops here; set fallback: true to roll back and go on)`,
          reportSoFar(),
          { cause: decision.cause },
        );
      }
    }
  }

  /** Starts the cpu backend, Kiln's reference. */
  private async startReference(): Promise<void> {
    const cpu = await this.engines.ensure(this.engineRegistry.get('cpu'));
    if (!cpu.available) throw new Error(`the cpu backend, Kiln's reference, cannot start: ${cpu.reason}`);
  }

  private async tryCandidate(
    slot: number,
    candidate: ReturnType<typeof planSlots>[number]['candidates'][number],
    meta: ReturnType<PluginRegistry['get']>['meta'],
    current: KilnModel,
    run: RunContext,
  ) {
    let plugin;
    try {
      plugin = this.registry.create(candidate.name);
    } catch (error) {
      return {
        decision: {
          slot,
          plugin: meta.name,
          kind: meta.kind,
          objective: meta.objective,
          status: 'failed' as const,
          reason: `could not be constructed: ${describeError(error)}`,
          metrics: {},
          notes: [],
        },
      };
    }
    return this.trial.run({ slot, meta, plugin, options: candidate.options, timeLimitMs: candidate.timeLimitMs }, current, run);
  }

  /**
   * The final model timed against what a plain tf.js user runs: the headline is the
   * user's model with its own predict on the best backend Kiln validated (the backend
   * slot's pick, e.g. wasm), the second figure the same on cpu (tf.js's default in
   * Node). Where Kiln's model runs outside tf.js (onnxruntime), no tf.js backend was
   * kept, so the user's model is run on every plain tf.js backend of
   * `backend.preference` that starts (wasm; tensorflow where installed) and the fastest
   * is the headline. One interleaved comparison, under the benchmark budget; the cpu
   * model is left out of it where a candidate's comparison timed it already (the
   * backend slot's, in the same run), and that median is reused.
   */
  private async endToEnd(state: RunState, session: ValidationSession, observer?: PipelineObserver): Promise<EndToEnd> {
    const { baseline, current } = state;
    const keptPlain = state.kept.find((m) => state.keptBy.get(m)?.kind === 'backend' && isTfjsBackend(m.backend));
    const references = keptPlain || isTfjsBackend(current.backend) ? [] : await this.plainTfjsReferences(baseline);
    try {
      const plain = keptPlain ? [keptPlain] : references;
      const seenCpu = plain.length ? state.cpuTiming : undefined;
      const CPU = 'plain tf.js on cpu';
      const subjects = [
        ...(seenCpu ? [] : [{ name: CPU, model: baseline }]),
        ...plain.filter((m) => m !== current).map((model) => ({ name: `plain tf.js: ${model.description}`, model })),
        { name: 'kiln', model: current },
      ];
      const progress = (done: number, total: number) => observer?.benchmarkProgress?.('end-to-end', done, total);
      const result = subjects.every((s) => runsSynchronously(s.model))
        ? this.benchmarker.compare(subjects, session.sampleInputs, this.config.benchmark, progress)
        : await this.benchmarker.compareAsync(subjects, session.sampleInputs, this.config.benchmark, progress);
      const median = (name: string) => result.variants.find((v) => v.name === name)!.timing.medianMs;
      const kilnMs = median('kiln');
      const cpuMs = seenCpu ? seenCpu.medianMs : median(CPU);
      const interval = result.ratio ? { interval: { low: result.ratio.low, high: result.ratio.high } } : {};
      const cpu = {
        baseline: `plain tf.js: ${baseline.description.replace(/^plain tf\.js: /, '')}`,
        baselineMedianMs: cpuMs,
        speedup: cpuMs / kilnMs,
        ...(seenCpu ? { timedIn: `${seenCpu.plugin}'s comparison, ${seenCpu.runs} runs` } : {}),
      };
      if (keptPlain === current) {
        return {
          baseline: `plain tf.js: ${current.description}`,
          baselineMedianMs: kilnMs,
          speedup: 1,
          keptPlain: true,
          optimizedMedianMs: kilnMs,
          iterations: result.iterations,
          versusCpu: cpu,
        };
      }
      if (!plain.length) return { ...cpu, ...interval, optimizedMedianMs: kilnMs, iterations: result.iterations };
      const timed = plain
        .map((model) => {
          const baselineMedianMs = median(`plain tf.js: ${model.description}`);
          return { baseline: `plain tf.js: ${model.description}`, baselineMedianMs, speedup: baselineMedianMs / kilnMs };
        })
        .sort((a, b) => a.baselineMedianMs - b.baselineMedianMs);
      const [fastest, ...others] = timed as [(typeof timed)[0], ...typeof timed];
      return {
        ...fastest,
        ...interval,
        optimizedMedianMs: kilnMs,
        iterations: result.iterations,
        ...(others.length ? { slowerPlain: others } : {}),
        versusCpu: cpu,
      };
    } finally {
      for (const model of references) model.dispose();
    }
  }

  /**
   * The user's model on each plain tf.js backend of `backend.preference` (but cpu, timed
   * on its own) whose engine starts: what a user without Kiln could run it on. A backend
   * that cannot run the model is left out, with a log line.
   */
  private async plainTfjsReferences(baseline: KilnModel): Promise<KilnModel[]> {
    const models: KilnModel[] = [];
    for (const name of this.config.backend.preference) {
      if (name === 'cpu' || !this.engineRegistry.has(name)) continue;
      const engine = this.engineRegistry.get(name);
      if (!engine.plainTfjs || engine.tfjsBackend === undefined) continue;
      if (models.some((m) => m.backend === engine.tfjsBackend)) continue;
      const started = await this.engines.ensure(engine);
      if (!started.available) continue;
      try {
        models.push(await engine.prepare(baseline));
      } catch (error) {
        this.logger.info(`end to end: plain tf.js on ${name} left out: ${describeError(error)}`);
      }
    }
    return models;
  }

  private report(
    source: StockModel,
    startedAt: Date,
    decisions: Decision[],
    final: KilnModel,
    session: ValidationSession | undefined,
    endToEnd: EndToEnd | undefined,
    budget?: ValidationBudget,
    finalCheck?: { readonly maxAbsDiff: number },
  ): KilnReport {
    return {
      kilnVersion: KILN_VERSION,
      tfjsVersion: tf.version.tfjs,
      mode: this.config.mode,
      model: { format: source.format.name, displayName: source.format.displayName },
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      // a model outside tf.js (onnxruntime) hands back tf.js tensors it did not compute with tf.js
      backend:
        session && runsSynchronously(final) && isTfjsBackend(final.backend) ? backendThatRan(final, session.sampleInputs) : final.backend,
      final: final.description,
      decisions,
      endToEnd,
      validation: {
        ...defaultTerms(this.config.validation),
        check: describeTerms(defaultTerms(this.config.validation)),
        inputSets: session?.inputSetLabels ?? [],
        ...(session?.rowsNote ? { rows: session.rowsNote } : {}),
        ...(budget ? { budget: describeBudget(budget) } : {}),
        ...(finalCheck ? { final: finalCheck } : {}),
      },
    };
  }
}

/**
 * Checks the final model once more against the original on every input set (a candidate
 * tried after a model was kept may have damaged it in a way the guards cannot see). A
 * mismatch is an OptimizationFailedError naming the plugin that kept the model and the
 * candidates tried after it: Kiln never returns a model it has not proved.
 */
async function checkFinalModel(
  state: RunState,
  session: ValidationSession,
  reportSoFar: () => KilnReport,
): Promise<{ maxAbsDiff: number }> {
  const result = await session.checkAsync(state.current, state.run.budget);
  if (result.passed) return { maxAbsDiff: result.maxAbsDiff };
  const keptBy = state.keptBy.get(state.current);
  const after = keptBy ? state.decisions.slice(state.decisions.indexOf(keptBy) + 1).map((d) => d.plugin) : [];
  throw new OptimizationFailedError(
    `the final model (${state.current.description}) no longer matches the original: ${result.reason}. It was validated when ` +
      `${keptBy?.plugin ?? 'it was kept'} was applied; candidates tried after it: ${after.join(', ') || 'none'}. ` +
      'Kiln returns no model it has not proved: run again without the candidates after it, and report it to their authors.',
    reportSoFar(),
  );
}

/** Whether every weight of the model's stock model is still alive. */
function isIntact(model: KilnModel): boolean {
  const stock = model.stock;
  if (!stock) return true;
  try {
    return stock.format.weights(stock.model).every((w) => !w.value.isDisposed);
  } catch {
    return false;
  }
}

/**
 * A candidate disposed weights of the model Kiln had kept: goes back to the last kept model
 * that is intact (else the user's own), marking each lost one's decision `failed` with the
 * culprit named.
 */
function goBackToIntactModel(state: RunState, culprit: string): void {
  while (state.kept.length && !isIntact(state.current)) {
    const lost = state.kept.pop()!;
    try {
      lost.dispose();
    } catch {
      // its weights are gone already
    }
    const decision = state.keptBy.get(lost);
    if (decision) {
      const at = state.decisions.indexOf(decision);
      const amended: Decision = {
        ...decision,
        status: 'failed',
        reason: `applied, then lost: ${culprit} disposed its weights (${decision.reason})`,
      };
      if (at >= 0) state.decisions[at] = amended;
    }
    state.current = state.kept.at(-1) ?? state.baseline;
  }
}

/** `LayersModel.predict`: what the user's model runs by itself. */
function baselineCall(source: StockModel): string {
  return `${source.format.displayName.replace(/^tf\./, '')}.predict`;
}

/** Runs the model once and reads which backend holds its output. */
function backendThatRan(model: KilnModel, inputs: tf.Tensor[]): string {
  const outputs = outputsAsArray(model.predict(inputs.length === 1 ? inputs[0]! : inputs));
  try {
    return backendOfTensor(outputs[0]!);
  } finally {
    tf.dispose(outputs);
  }
}
