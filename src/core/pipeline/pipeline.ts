import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import type { KilnConfig } from '../../config/kiln-config.js';
import { Benchmarker } from '../benchmark/benchmarker.js';
import { describeError, OptimizationFailedError } from '../errors.js';
import { outputsAsArray, type KilnModel } from '../kiln-model.js';
import type { Logger } from '../logger.js';
import { PluginRegistry } from '../plugin-registry.js';
import { backendOfTensor } from '../tensor-backend.js';
import { KILN_CONFIG, LOGGER } from '../tokens.js';
import { checkSampleInputs, syntheticSampleInputs } from '../validation/validation-inputs.js';
import { Validator, type LossFunction, type ValidationSession } from '../validation/validator.js';
import { describeBudget, type ValidationBudget } from '../validation/budget.js';
import { EngineManager } from '../engines/engine-manager.js';
import { EngineRegistry } from '../engines/engine-registry.js';
import { FormatRegistry } from '../formats/format-registry.js';
import type { StockModel } from '../formats/model-format.js';
import { CandidateTrial } from './candidate-trial.js';
import { OptimizedModel } from './optimized-model.js';
import { planSlots, type PlannedSlot } from './plan-slots.js';
import type { Decision, EndToEnd, KilnReport } from './report.js';
import type { RunContext } from './run-context.js';
import { KILN_VERSION } from '../version.js';
import { activateBackend } from '../backend-scope.js';

/** Events for progress displays. */
export interface PipelineObserver {
  candidateStarted?(plugin: string, slot: string): void;
  benchmarkProgress?(label: string, done: number, total: number): void;
  decided?(decision: Decision): void;
}

export interface PipelineRunOptions {
  /** One tensor per model input; synthetic seeded inputs (batch 1) when absent. Not disposed by Kiln. */
  readonly sampleInputs?: readonly tf.Tensor[];
  readonly observer?: PipelineObserver;
  /** Loss whose gradients the training-mode check compares (default: a seeded weighted sum of the outputs). */
  readonly loss?: LossFunction;
}

/** What the slots of one run share and change: the model so far, the models kept, the decisions. */
interface RunState {
  run: RunContext;
  current: KilnModel;
  readonly kept: KilnModel[];
  readonly decisions: Decision[];
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
   */
  async run(userModel: object, options: PipelineRunOptions = {}): Promise<OptimizationResult> {
    const startedAt = new Date();
    const config = this.config;
    const activeBackend = tf.getBackend();
    const source = this.formats.stockModelOf(userModel);
    const slots = planSlots(config, this.registry);
    await this.startReference();

    const baseline = source.format.wrap(source.model, 'cpu', false, `plain tf.js: ${baselineCall(source)} on cpu`);
    const synthetic = options.sampleInputs === undefined;
    const samples = options.sampleInputs ? [...options.sampleInputs] : syntheticSampleInputs(baseline.inputs, config.validation.seed);
    let session: ValidationSession | undefined;
    const kept: KilnModel[] = [];
    try {
      checkSampleInputs(samples, baseline.inputs);
      session = this.validator.prepare(baseline, samples, { ...config.validation, loss: options.loss }, config.mode);
      const state: RunState = { run: this.runContext(source, samples, session, options), current: baseline, kept, decisions: [] };
      for (const [index, slot] of slots.entries()) {
        await this.runSlot(index, slot, state, options.observer, () =>
          this.report(startedAt, state.decisions, baseline, session, undefined),
        );
      }
      const { current, decisions, run } = state;
      const endToEnd =
        current !== baseline && config.benchmark.endToEnd ? this.endToEnd(baseline, current, session, options.observer) : undefined;
      const report = this.report(startedAt, decisions, current, session, endToEnd, run.budget);
      return { model: new OptimizedModel(current, kept, report.backend), report };
    } catch (error) {
      for (const model of kept.reverse()) model.dispose();
      throw error;
    } finally {
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
        const outcome = await this.tryCandidate(index, candidate, meta, state.current, state.run);
        decision = outcome.decision;
        if (outcome.model) {
          if (outcome.budget) state.run = { ...state.run, budget: outcome.budget };
          state.kept.push(outcome.model);
          state.current = outcome.model;
          winner = meta.name;
        }
      }
      state.decisions.push(decision);
      observer?.decided?.(decision);
      this.logger.info(`${decision.plugin}: ${decision.status}: ${decision.reason}`);
      if (!this.config.fallback && (decision.status === 'failed' || decision.status === 'rejected')) {
        throw new OptimizationFailedError(
          `${decision.plugin} ${decision.status}: ${decision.reason} (fallback is off, so Kiln stops here; set fallback: true to roll back and go on)`,
          reportSoFar(),
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

  private endToEnd(baseline: KilnModel, optimized: KilnModel, session: ValidationSession, observer?: PipelineObserver): EndToEnd {
    const result = this.benchmarker.compare(
      [
        { name: 'plain tf.js', model: baseline },
        { name: 'kiln', model: optimized },
      ],
      session.sampleInputs,
      this.config.benchmark,
      (done, total) => observer?.benchmarkProgress?.('end-to-end', done, total),
    );
    const [base, opt] = result.variants as [(typeof result.variants)[0], (typeof result.variants)[0]];
    return {
      baseline: baseline.description,
      baselineMedianMs: base.timing.medianMs,
      optimizedMedianMs: opt.timing.medianMs,
      speedup: base.timing.medianMs / opt.timing.medianMs,
      iterations: result.iterations,
    };
  }

  private report(
    startedAt: Date,
    decisions: Decision[],
    final: KilnModel,
    session: ValidationSession | undefined,
    endToEnd: EndToEnd | undefined,
    budget?: ValidationBudget,
  ): KilnReport {
    return {
      kilnVersion: KILN_VERSION,
      tfjsVersion: tf.version.tfjs,
      mode: this.config.mode,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      backend: session ? backendThatRan(final, session.sampleInputs) : final.backend,
      final: final.description,
      decisions,
      endToEnd,
      validation: {
        atol: this.config.validation.atol,
        rtol: this.config.validation.rtol,
        inputSets: session?.inputSetLabels ?? [],
        ...(budget ? { budget: describeBudget(budget) } : {}),
      },
    };
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
