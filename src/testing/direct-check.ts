/**
 * The direct check: `apply` called on the model as the pipeline would call it (on
 * the input backend, with a validation session and guards on the weights), with
 * every effect measured, and the user's weights restored afterwards.
 */
import type * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { EngineManager } from '../core/engines/engine-manager.js';
import { EngineRegistry } from '../core/engines/engine-registry.js';
import type { ExecutionEngine } from '../core/engines/execution-engine.js';
import { CandidateRejectedError } from '../core/errors.js';
import type { StockModel } from '../core/formats/model-format.js';
import type { KilnModel } from '../core/kiln-model.js';
import type { OptimizationPlugin, PluginContext } from '../core/plugin.js';
import { PluginRegistry } from '../core/plugin-registry.js';
import { createRunContainer } from '../core/run-container.js';
import { Validator, type ValidationSession } from '../core/validation/validator.js';
import { TfjsBackendEngine } from '../engines/index.js';
import { inputReturnedChecks, overranChecks, threwChecks, timeLimitCheck } from './apply-outcomes.js';
import { applyWithLimit } from './apply-with-limit.js';
import { check, DIRECT_CHECK_IDS, type ConformanceCheck } from './checks.js';
import { CollectingLogger, memory, runOnce } from './measure.js';
import { checkNewModel, type ResultContext } from './new-model-checks.js';
import type { ConformanceOptions } from './options.js';
import type { PreparedPlugin } from './prepare-plugin.js';
import type { ModelConformance } from './report.js';
import { WeightWatch } from './weight-watch.js';

export interface DirectOutcome {
  readonly checks: ConformanceCheck[];
  readonly applied: ModelConformance['applied'];
  readonly notes: string[];
  /** Set when the result ran but left the tolerance. */
  readonly drift?: string;
  /** Weights of the user's model the kit could not write back (disposed, swapped, or of a format without write-back): the model must be built afresh. */
  readonly userLost: readonly string[];
}

/** What `apply` came to, before the kit restores the user's weights. */
type ApplyChecks = Omit<DirectOutcome, 'userLost'>;

/** Everything one direct `apply` needs, set up around the input model. */
interface DirectRun extends ResultContext {
  readonly plugin: OptimizationPlugin<object>;
  readonly pluginOptions: object;
  readonly limitMs: number;
  readonly notes: string[];
  readonly logger: CollectingLogger;
}

/**
 * `apply` called directly on the model, as the pipeline would, with every effect
 * measured. `user` is the model with its format (any registered one): the format runs
 * it, copies it onto the input backend and gives the weights the guards watch.
 */
export async function checkDirect(
  prepared: PreparedPlugin,
  user: StockModel,
  samples: tf.Tensor[],
  options: ConformanceOptions,
): Promise<DirectOutcome> {
  const config = prepared.config!;
  const notes: string[] = [];
  const notRun = (why: string): DirectOutcome => ({
    checks: DIRECT_CHECK_IDS.map((id) => check(id, 'skipped', why)),
    applied: 'not run',
    notes,
    userLost: [],
  });
  if (prepared.availability && !prepared.availability.available) return notRun(`unavailable here: ${prepared.availability.reason}`);

  const logger = new CollectingLogger();
  const runContainer = createRunContainer(config, { parent: prepared.container!, logger });
  const plugin = runContainer.resolve(
    new PluginRegistry(prepared.container!).get(prepared.meta!.name).pluginClass,
  ) as OptimizationPlugin<object>;
  const backend = options.backend ?? 'cpu';
  const backendDown = await inputBackendDown(runContainer, backend);
  if (backendDown !== undefined) return notRun(`the input backend ${backend} is unavailable here: ${backendDown}`);
  const input = await inputModel(runContainer, user, backend);
  let validation: ValidationSession | undefined;
  const guards: { user?: WeightWatch; input?: WeightWatch } = {};
  let userLost: string[] = [];
  let outcome: ApplyChecks;
  try {
    runOnce(input, samples); // first-call kernel set-up is not the plugin's allocation
    validation = runContainer
      .resolve(Validator)
      .prepare(user.format.wrap(user.model, 'cpu', false, 'reference on cpu'), samples, config.validation, config.mode);
    guards.user = WeightWatch.capture(user);
    if (input.stock && input.stock.model !== user.model) guards.input = WeightWatch.capture(input.stock);
    const changed = () => ({ user: guards.user!.changed(), input: guards.input?.changed() ?? [] });
    const limitMs = prepared.timeLimitMs!;
    outcome = await applyAndCheck({
      plugin,
      pluginOptions: prepared.pluginOptions ?? {},
      limitMs,
      notes,
      logger,
      input,
      samples,
      validation,
      config,
      changed,
    });
  } finally {
    // Leave the user's weights as they were for the pipeline check, whatever the plugin did (else say which could not be).
    userLost = guards.user?.restore() ?? [];
    guards.user?.dispose();
    guards.input?.dispose();
    validation?.dispose();
    input.dispose();
  }
  return { ...outcome, userLost };
}

/** Why the input backend (not cpu) cannot be brought up here, or undefined when it is up. */
async function inputBackendDown(runContainer: DependencyContainer, backend: string): Promise<string | undefined> {
  if (backend === 'cpu') return undefined;
  const up = await runContainer.resolve(EngineManager).ensure(engineNamed(runContainer, backend));
  return up.available ? undefined : up.reason;
}

/** The registered engine of that name, else the tf.js backend of that name. */
function engineNamed(runContainer: DependencyContainer, backend: string): ExecutionEngine {
  const engines = new EngineRegistry(runContainer);
  return engines.has(backend) ? engines.get(backend) : new TfjsBackendEngine({ name: backend, tfName: backend });
}

/** The model handed to `apply`: the user's own on cpu (run by its format), else a copy on the input backend. */
async function inputModel(runContainer: DependencyContainer, user: StockModel, backend: string): Promise<KilnModel> {
  const engine = engineNamed(runContainer, backend);
  const onCpu = user.format.wrap(user.model, 'cpu', false);
  return (engine.tfjsBackend ?? engine.name) === 'cpu' ? onCpu : engine.prepare(onCpu);
}

/** The context `apply` is given: the kit's options and samples, notes kept, metrics and tables dropped. */
function pluginContext(run: DirectRun, signal: AbortSignal): PluginContext<object> {
  const { validation } = run;
  return {
    options: run.pluginOptions,
    mode: run.config.mode,
    sampleInputs: run.samples,
    signal,
    note: (message) => run.notes.push(message),
    metric: () => undefined,
    table: () => undefined,
    validation: { inputSets: validation.inputSetLabels, check: (m, budget) => validation.check(m, budget) },
  };
}

/** Calls `apply` under its time limit and checks what came of it. */
async function applyAndCheck(run: DirectRun): Promise<ApplyChecks> {
  const { input, notes } = run;
  const before = memory();
  const outcome = await applyWithLimit(run.plugin, input, (signal) => pluginContext(run, signal), run.limitMs);
  const ownNotes = [...notes]; // what the plugin noted, before the warnings it logged
  notes.push(...run.logger.lines);
  const afterApply = run.changed();
  const timeLimit = timeLimitCheck(outcome, run.limitMs);
  if (outcome.timedOut) return { checks: overranChecks(timeLimit, afterApply), applied: 'timed out', notes };
  const result = outcome.result;
  if (!result) {
    const applied = outcome.error instanceof CandidateRejectedError ? 'rejected' : 'threw';
    return { checks: threwChecks(outcome.error, timeLimit, afterApply, before, memory()), applied, notes };
  }
  if (result === input)
    return {
      checks: inputReturnedChecks(timeLimit, afterApply, before, memory(), ownNotes.length ? ownNotes : notes),
      applied: 'input returned',
      notes,
    };
  const { checks, drift } = await checkNewModel(result, run, timeLimit, afterApply, before);
  return { checks, applied: 'new model', notes, ...(drift ? { drift } : {}) };
}
