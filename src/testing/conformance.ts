import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { KilnConfig } from '../config/kiln-config.js';
import { validateConfig } from '../core/config-loading/load-config.js';
import { mergeOverrides } from '../config/merge-overrides.js';
import { validateOptions } from '../core/config-loading/resolve-pipeline.js';
import { activateBackend } from '../core/backend-scope.js';
import { EngineManager } from '../core/engines/engine-manager.js';
import { EngineRegistry } from '../core/engines/engine-registry.js';
import { TfjsBackendEngine } from '../engines/index.js';
import { layersModelFormat } from '../formats/index.js';
import { cloneLayersModel } from '../formats/layers-model/clone-layers-model.js';
import { CandidateRejectedError, describeError } from '../core/errors.js';
import { outputsAsArray, type KilnModel } from '../core/kiln-model.js';
import { LayersKilnModel } from '../formats/layers-model/layers-model-format.js';
import type { Logger } from '../core/logger.js';
import type { Availability, OptimizationPlugin, PluginContext, PluginMeta } from '../core/plugin.js';
import { pluginMetaOf } from '../core/plugin-decorator.js';
import { PluginRegistry } from '../core/plugin-registry.js';
import type { Decision } from '../core/pipeline/report.js';
import { createRunContainer } from '../core/run-container.js';
import { PLUGIN_CLASS } from '../core/tokens.js';
import { Validator, type ValidationSession } from '../core/validation/validator.js';
import { WeightGuard } from '../core/weight-guard.js';
import { optimize } from '../optimize.js';
import { ZOO, zooSampleInputs, type ZooName } from '../zoo/index.js';

/** A plugin to check: its registered name, or its `@Plugin`-decorated class. */
export type ConformanceTarget = string | (new (...args: never[]) => OptimizationPlugin<never>);

/** A model of your own to check the plugin on, besides or instead of the zoo's. */
export interface ConformanceModel {
  /** Names it in test titles and messages. */
  readonly name: string;
  /** A fresh LayersModel with fixed weights; the kit disposes it. */
  build(): tf.LayersModel | Promise<tf.LayersModel>;
  /** One tensor per model input; the kit disposes them. Default: seeded normal values at batch 1. */
  sampleInputs?(model: tf.LayersModel): tf.Tensor[];
}

export interface ConformanceOptions {
  /** Zoo models (by name) or models of your own. Default: every zoo model. */
  readonly models?: readonly (ZooName | ConformanceModel)[];
  /** Build the zoo models scaled down (same input and output shapes). Default true. */
  readonly small?: boolean;
  /**
   * Name of the backend (as in `backend.preference`: cpu, wasm, ...) that the model
   * handed to `apply` runs on, as after Kiln's backend slot; the pipeline check uses
   * `backend.preference: [backend]`. Default `cpu`. A backend plugin's pipeline check
   * always runs it in the backend slot, on the user's model on cpu.
   */
  readonly backend?: string;
  /** The plugin's options, as under `options:` in kiln.yaml (validated against its options class). Default: none. */
  readonly options?: object;
  /**
   * Config keys over the kit's fast config (`validation.samples: 1`, `benchmark:
   * { warmup: 1, iterations: 5, minSpeedup: 0.01, endToEnd: false }`), e.g. `{ mode:
   * 'training' }` or `{ validation: { atol: 1e-4 } }`. `backend.preference` and
   * `pipeline` are the kit's.
   */
  readonly config?: object;
  /** Container the plugin is registered in (a class not registered there is registered in a child). Default: tsyringe's root. */
  readonly container?: DependencyContainer;
  /** Time limit for `apply`, in ms. Default: the plugin's `meta.timeLimitMs`, else the config's `timeLimitMs`. */
  readonly timeLimitMs?: number;
  /** Also run each model through Kiln's pipeline (`optimize()` with the one plugin). Default true. */
  readonly pipeline?: boolean;
  /** Seed of the zoo weights and sample inputs. Default 0. */
  readonly seed?: number;
  /**
   * How a result outside the tolerance is judged. Default (false): the plugin's
   * contract is kept when the pipeline then rejects that result with a reason (it
   * catches the drift, rolls back and says why). `true`: the plugin must keep within
   * the tolerance itself, or throw `CandidateRejectedError` (check with
   * `context.validation.check`); a result the pipeline has to reject fails.
   */
  readonly strictTolerance?: boolean;
}

/** The checks, each an `it` of {@link describePluginConformance}. */
export const CONFORMANCE_CHECKS = Object.freeze({
  registered: 'is registered with complete @Plugin metadata and valid default options',
  available: 'answers isAvailable, with a reason when unavailable',
  'input-untouched': "never mutates its input (the input model's and the user's weights)",
  'time-limit': 'finishes apply within its time limit',
  tolerance: 'keeps its results within the tolerance it declares, or reports itself rejected',
  'no-leak-per-call': 'leaks no tensors or backend buffers per predict call',
  'dispose-frees': 'dispose() frees what apply allocated (tensors and backend buffers back where they were)',
  'dispose-safe': 'dispose() leaves its input usable and is safe to call twice',
  pipeline: "passes Kiln's pipeline: applied, skipped, rejected or unavailable with a reason, and leaves nothing behind",
} as const);

export type ConformanceCheckId = keyof typeof CONFORMANCE_CHECKS;

/** Checks made once per plugin, then once per model. */
export const PLUGIN_CHECK_IDS: readonly ConformanceCheckId[] = ['registered', 'available'];
export const MODEL_CHECK_IDS: readonly ConformanceCheckId[] = ['input-untouched', 'time-limit', 'tolerance', 'no-leak-per-call', 'dispose-frees', 'dispose-safe', 'pipeline'];

export interface ConformanceCheck {
  readonly id: ConformanceCheckId;
  readonly title: string;
  /** `skipped`: the check does not apply (the plugin is unavailable, or returned its input, ...); `message` says why. */
  readonly outcome: 'passed' | 'failed' | 'skipped';
  /** What was found, in words; for a failure, what is wrong and what to do. */
  readonly message: string;
}

export interface ModelConformance {
  readonly model: string;
  readonly checks: readonly ConformanceCheck[];
  /** The pipeline's decision for the plugin, when the pipeline ran. */
  readonly decision?: Decision;
  /** What `apply` did: returned a new model, returned its input, was rejected, threw, or overran. */
  readonly applied: 'new model' | 'input returned' | 'rejected' | 'threw' | 'timed out' | 'not run';
  /** Notes the plugin added during the direct `apply`, and warnings it logged. */
  readonly notes: readonly string[];
}

export interface ConformanceReport {
  readonly plugin: string;
  readonly meta?: PluginMeta;
  readonly checks: readonly ConformanceCheck[];
  readonly models: readonly ModelConformance[];
  /** No check failed. */
  readonly passed: boolean;
}

/** The fast settings the kit runs under: small sample counts, a short benchmark, any speed-up accepted. */
export const CONFORMANCE_CONFIG = Object.freeze({
  validation: { samples: 1 },
  benchmark: { warmup: 1, iterations: 5, minSpeedup: 0.01, endToEnd: false },
});

/** Statuses the pipeline may give a conformant plugin (besides `applied`): each needs a reason. */
const ACCEPTABLE_STATUSES: readonly string[] = ['applied', 'skipped', 'rejected', 'unavailable'];

function check(id: ConformanceCheckId, outcome: ConformanceCheck['outcome'], message: string): ConformanceCheck {
  return { id, title: CONFORMANCE_CHECKS[id], outcome, message };
}

class CollectingLogger implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(): void {}
  warn(message: string): void { this.lines.push(`warning: ${message}`); }
}

/** Data buffers held by every initialised backend. */
function backendDataIds(): number {
  const registry = (tf.engine() as unknown as { registry: Record<string, tf.KernelBackend> }).registry;
  return Object.values(registry).reduce((sum, backend) => sum + backend.numDataIds(), 0);
}

function memory(): { tensors: number; dataIds: number } {
  return { tensors: tf.memory().numTensors, dataIds: backendDataIds() };
}

function feed(inputs: readonly tf.Tensor[]): tf.Tensor | tf.Tensor[] {
  return inputs.length === 1 ? inputs[0]! : [...inputs];
}

/** Runs `model` once on `inputs`, reads the outputs back and disposes them. */
function runOnce(model: KilnModel, inputs: readonly tf.Tensor[]): void {
  const outputs = outputsAsArray(model.predict(feed(inputs)));
  try {
    for (const o of outputs) o.dataSync();
  } finally {
    tf.dispose(outputs);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function modelName(model: ZooName | ConformanceModel): string {
  return typeof model === 'string' ? model : model.name;
}

/**
 * Checks one plugin against Kiln's plugin contract. Prepared once, then each model
 * is checked on demand; `describePluginConformance` runs it inside mocha, and
 * `runPluginConformance` runs it to the end and returns the report.
 */
export class ConformanceSession {
  readonly name: string;
  private prepared?: Promise<PreparedPlugin>;

  constructor(private readonly target: ConformanceTarget, readonly options: ConformanceOptions = {}) {
    this.name = typeof target === 'string' ? target : pluginMetaOf(target)?.name ?? target.name;
  }

  /** The models to check, by name. */
  get modelNames(): string[] {
    return this.models().map(modelName);
  }

  /** The plugin-level checks (registration, availability). Never rejects. */
  async pluginChecks(): Promise<ConformanceCheck[]> {
    return (await this.prepare()).checks;
  }

  /** The plugin's `@Plugin` metadata, once found. */
  async meta(): Promise<PluginMeta | undefined> {
    return (await this.prepare()).meta;
  }

  /** Every model-level check on one model. Never rejects: anything unexpected is a failed check. */
  async modelChecks(name: string): Promise<ModelConformance> {
    const model = this.models().find((m) => modelName(m) === name);
    if (!model) throw new Error(`no model "${name}" among ${this.modelNames.join(', ')}`);
    const plugin = await this.prepare();
    try {
      return await checkModel(plugin, model, this.options);
    } catch (error) {
      const message = `the conformance run itself failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`;
      return { model: name, checks: MODEL_CHECK_IDS.map((id) => check(id, 'failed', message)), applied: 'not run', notes: [] };
    }
  }

  private models(): readonly (ZooName | ConformanceModel)[] {
    return this.options.models ?? (Object.keys(ZOO) as ZooName[]);
  }

  private prepare(): Promise<PreparedPlugin> {
    this.prepared ??= preparePlugin(this.target, this.name, this.options);
    return this.prepared;
  }
}

/** Runs every check on every model and returns the report (for use outside mocha, or to assert on failures). */
export async function runPluginConformance(target: ConformanceTarget, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const session = new ConformanceSession(target, options);
  const checks = await session.pluginChecks();
  const models: ModelConformance[] = [];
  for (const name of session.modelNames) models.push(await session.modelChecks(name));
  const all = [...checks, ...models.flatMap((m) => m.checks)];
  const meta = await session.meta();
  return { plugin: session.name, ...(meta ? { meta } : {}), checks, models, passed: all.every((c) => c.outcome !== 'failed') };
}

// ---------------------------------------------------------------------------------
// The plugin.

interface PreparedPlugin {
  readonly name: string;
  readonly checks: ConformanceCheck[];
  /** Set when the plugin was found: everything the model checks need. */
  readonly meta?: PluginMeta;
  readonly container?: DependencyContainer;
  readonly config?: KilnConfig;
  /** The raw config handed to `optimize()`. */
  readonly rawConfig?: object;
  readonly pluginOptions?: object;
  readonly timeLimitMs?: number;
  readonly availability?: Availability;
  /** Why model checks cannot run at all (no plugin, bad options). */
  readonly blocked?: string;
}

function backendSlotName(meta: PluginMeta): string | undefined {
  return meta.kind === 'backend' && meta.name.startsWith('backend-') ? meta.name.slice('backend-'.length) : undefined;
}

async function preparePlugin(target: ConformanceTarget, name: string, options: ConformanceOptions): Promise<PreparedPlugin> {
  const checks: ConformanceCheck[] = [];
  const blocked = (why: string): PreparedPlugin => {
    if (!checks.some((c) => c.id === 'available')) checks.push(check('available', 'skipped', why));
    return { name, checks, blocked: why };
  };

  // Registration: the class's metadata, and the name resolving to it.
  const parent = options.container ?? rootContainer;
  let container = parent;
  let meta: PluginMeta | undefined;
  try {
    let registry = new PluginRegistry(parent);
    if (typeof target === 'string') {
      if (!registry.has(target)) {
        checks.push(check('registered', 'failed', `no plugin named "${target}" is registered (registered: ${registry.names().join(', ') || 'none'}). Import the module that defines it, or pass the class.`));
        return blocked('the plugin is not registered');
      }
      meta = registry.get(target).meta;
    } else {
      meta = pluginMetaOf(target);
      if (!meta) {
        checks.push(check('registered', 'failed', `class ${target.name} has no @Plugin({...}) metadata: decorate it with @Plugin from 'tfjs-kiln'.`));
        return blocked('the class has no @Plugin metadata');
      }
      if (!registry.has(meta.name)) {
        container = parent.createChildContainer();
        container.register(PLUGIN_CLASS, { useValue: target });
        registry = new PluginRegistry(container);
      } else if (registry.get(meta.name).pluginClass !== target) {
        checks.push(check('registered', 'failed', `another class (${registry.get(meta.name).pluginClass.name}) is registered under the name "${meta.name}"; plugin names must be unique.`));
        return blocked('another class holds the name');
      }
    }
  } catch (error) {
    checks.push(check('registered', 'failed', `the plugin registry could not be read: ${describeError(error)}`));
    return blocked('the plugin registry could not be read');
  }

  const problems: string[] = [];
  for (const key of ['name', 'kind', 'description'] as const) {
    if (typeof meta[key] !== 'string' || meta[key].trim() === '') problems.push(`meta.${key} must be a non-empty string`);
  }
  if (!['latency', 'size', 'memory'].includes(meta.objective)) problems.push(`meta.objective must be latency, size or memory (got ${JSON.stringify(meta.objective)})`);
  if (meta.timeLimitMs !== undefined && !(Number.isInteger(meta.timeLimitMs) && meta.timeLimitMs >= 1)) problems.push(`meta.timeLimitMs must be an integer >= 1 (got ${meta.timeLimitMs})`);
  if (meta.optionsClass) {
    try {
      validateOptions(meta.optionsClass, undefined, `${meta.name}.options`, 'defaults');
    } catch (error) {
      problems.push(`the defaults of its options class do not validate: ${describeError(error)}`);
    }
  }
  let pluginOptions: object = {};
  try {
    pluginOptions = validateOptions(meta.optionsClass, options.options, `${meta.name}.options`, 'conformance options');
  } catch (error) {
    problems.push(`the options given to the kit do not validate: ${describeError(error)}`);
  }
  if (problems.length) {
    checks.push(check('registered', 'failed', problems.join('; ')));
    return blocked('its metadata or options are invalid');
  }
  checks.push(check('registered', 'passed', `${meta.name}: kind ${meta.kind}, objective ${meta.objective}${meta.timeLimitMs ? `, time limit ${meta.timeLimitMs} ms` : ''}`));

  // The config: the kit's fast settings, the caller's keys, then the kit's backend and pipeline.
  const slotBackend = backendSlotName(meta);
  const rawConfig = mergeOverrides(mergeOverrides(CONFORMANCE_CONFIG, options.config ?? {}), slotBackend
    ? { backend: { preference: [slotBackend] }, pipeline: [] }
    : {
        backend: { preference: [options.backend ?? 'cpu'] },
        pipeline: [{ name: meta.name, ...(options.options ? { options: options.options } : {}), ...(options.timeLimitMs ? { timeLimitMs: options.timeLimitMs } : {}) }],
      }) as object;
  let config: KilnConfig;
  try {
    config = validateConfig(rawConfig, { source: 'conformance config' });
  } catch (error) {
    checks.push(check('available', 'failed', `the kit's config does not validate: ${describeError(error)}`));
    return { name, checks, blocked: 'the config does not validate' };
  }
  const timeLimitMs = options.timeLimitMs ?? meta.timeLimitMs ?? config.timeLimitMs;

  // Availability: a well-formed answer, with a reason when unavailable.
  let plugin: OptimizationPlugin<object>;
  try {
    const run = createRunContainer(config, { parent: container, logger: new CollectingLogger() });
    plugin = run.resolve(new PluginRegistry(container).get(meta.name).pluginClass) as OptimizationPlugin<object>;
  } catch (error) {
    checks.push(check('available', 'failed', `the plugin could not be constructed: ${describeError(error)}. Register every service its constructor asks for in the container.`));
    return { name, checks, meta, blocked: 'the plugin could not be constructed' };
  }
  let availability: Availability;
  try {
    availability = await plugin.isAvailable({ mode: config.mode });
  } catch (error) {
    checks.push(check('available', 'failed', `isAvailable threw: ${describeError(error)}. Answer unavailable('why') instead of throwing.`));
    return { name, checks, meta, blocked: 'isAvailable threw' };
  }
  if (!availability || typeof availability.available !== 'boolean') {
    checks.push(check('available', 'failed', `isAvailable returned ${JSON.stringify(availability)}; return AVAILABLE or unavailable('why')`));
    return { name, checks, meta, blocked: 'isAvailable answered nonsense' };
  }
  if (!availability.available && (typeof availability.reason !== 'string' || availability.reason.trim() === '')) {
    checks.push(check('available', 'failed', 'isAvailable answered unavailable without a reason; say why (e.g. "package not installed (npm install x)")'));
  } else {
    checks.push(check('available', 'passed', availability.available ? 'available' : `unavailable: ${availability.reason}`));
  }
  return { name, checks, meta, container, config, rawConfig, pluginOptions, timeLimitMs, availability };
}

// ---------------------------------------------------------------------------------
// One model.

interface ApplyOutcome {
  readonly result?: KilnModel;
  readonly error?: unknown;
  readonly timedOut: boolean;
  readonly ms: number;
}

/** Calls `apply` under the time limit; a result that arrives late is disposed. */
async function applyWithLimit(plugin: OptimizationPlugin<object>, input: KilnModel, context: (signal: AbortSignal) => PluginContext<object>, limitMs: number): Promise<ApplyOutcome> {
  const controller = new AbortController();
  const state: { settled?: { result?: KilnModel; error?: unknown }; abandoned?: boolean } = {};
  const started = performance.now();
  const running = Promise.resolve()
    .then(() => plugin.apply(input, context(controller.signal)))
    .then(
      (result) => {
        state.settled = { result };
        if (state.abandoned && result !== input) result.dispose();
      },
      (error: unknown) => { state.settled = { error }; },
    );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([running, new Promise<void>((resolve) => { timer = setTimeout(resolve, limitMs); })]);
  clearTimeout(timer);
  const ms = performance.now() - started;
  if (state.settled && ms <= limitMs) return { ...state.settled, timedOut: false, ms };
  // Over the limit: abort, give the plugin a moment to stop, and free a result that arrives.
  controller.abort();
  if (!state.settled) await Promise.race([running, sleep(Math.min(limitMs, 5000))]);
  state.abandoned = true;
  const late = state.settled?.result;
  if (late && late !== input) late.dispose();
  return { timedOut: true, ms };
}

function describeChanged(user: string[], input: string[]): string {
  const parts: string[] = [];
  if (user.length) parts.push(`the user's model: ${user.slice(0, 5).join(', ')}${user.length > 5 ? `, and ${user.length - 5} more` : ''}`);
  if (input.length) parts.push(`the input model: ${input.slice(0, 5).join(', ')}${input.length > 5 ? `, and ${input.length - 5} more` : ''}`);
  return parts.join('; ');
}

async function buildModel(model: ZooName | ConformanceModel, options: ConformanceOptions): Promise<{ layers: tf.LayersModel; samples: tf.Tensor[] }> {
  const seed = options.seed ?? 0;
  if (typeof model === 'string') {
    const entry = ZOO[model];
    if (!entry) throw new Error(`no zoo model "${model}"; the zoo has ${Object.keys(ZOO).join(', ')}`);
    const layers = entry.build({ small: options.small ?? true, seed: seed + 1 });
    return { layers, samples: zooSampleInputs(entry, 1, seed) };
  }
  const layers = await model.build();
  const samples = model.sampleInputs
    ? model.sampleInputs(layers)
    : layers.inputs.map((input, i) => tf.randomNormal(input.shape.map((d) => d ?? 1), 0, 1, 'float32', seed + i + 1));
  return { layers, samples };
}

async function checkModel(plugin: PreparedPlugin, model: ZooName | ConformanceModel, options: ConformanceOptions): Promise<ModelConformance> {
  const name = modelName(model);
  if (plugin.blocked || !plugin.meta || !plugin.config || !plugin.container) {
    const why = `not checked: ${plugin.blocked ?? 'the plugin could not be prepared'}`;
    return { model: name, checks: MODEL_CHECK_IDS.map((id) => check(id, plugin.blocked?.startsWith('the plugin is not registered') ? 'failed' : 'skipped', why)), applied: 'not run', notes: [] };
  }
  const activeBefore = tf.getBackend();
  const { layers: user, samples } = await buildModel(model, options);
  try {
    const direct = await checkDirect(plugin, user, samples, options);
    const pipeline = options.pipeline === false
      ? { check: check('pipeline', 'skipped', 'not asked for (options.pipeline is false)') }
      : await checkPipeline(plugin, user, samples, options);
    const decision = pipeline.decision;
    const caught = direct.drift && !options.strictTolerance && decision?.status === 'rejected' && decision.reason.trim() !== '';
    const checks = MODEL_CHECK_IDS.map((id) => {
      if (id === 'pipeline') return pipeline.check;
      if (id === 'tolerance' && caught) return check('tolerance', 'passed', `${direct.drift}; the pipeline rejected it: ${decision.reason}`);
      return direct.checks.find((c) => c.id === id)!;
    });
    return { model: name, checks, ...(pipeline.decision ? { decision: pipeline.decision } : {}), applied: direct.applied, notes: direct.notes };
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

interface DirectOutcome {
  readonly checks: ConformanceCheck[];
  readonly applied: ModelConformance['applied'];
  readonly notes: string[];
  /** Set when the result ran but left the tolerance. */
  readonly drift?: string;
}

/** `apply` called directly on the model, as the pipeline would, with every effect measured. */
async function checkDirect(plugin: PreparedPlugin, user: tf.LayersModel, samples: tf.Tensor[], options: ConformanceOptions): Promise<DirectOutcome> {
  const meta = plugin.meta!;
  const config = plugin.config!;
  const limit = plugin.timeLimitMs!;
  const notes: string[] = [];
  const direct = ['input-untouched', 'time-limit', 'tolerance', 'no-leak-per-call', 'dispose-frees', 'dispose-safe'] as const;
  const all = (outcome: ConformanceCheck['outcome'], message: string) => direct.map((id) => check(id, outcome, message));
  if (plugin.availability && !plugin.availability.available) {
    return { checks: all('skipped', `unavailable here: ${plugin.availability.reason}`), applied: 'not run', notes };
  }

  const logger = new CollectingLogger();
  const run = createRunContainer(config, { parent: plugin.container!, logger });
  const instance = run.resolve(new PluginRegistry(plugin.container!).get(meta.name).pluginClass) as OptimizationPlugin<object>;
  const backend = options.backend ?? 'cpu';
  const engines = new EngineRegistry(run);
  const engine = engines.has(backend) ? engines.get(backend) : new TfjsBackendEngine({ name: backend, tfName: backend });
  if (backend !== 'cpu') {
    const up = await run.resolve(EngineManager).ensure(engine);
    if (!up.available) return { checks: all('skipped', `the input backend ${backend} is unavailable here: ${up.reason}`), applied: 'not run', notes };
  }
  const onCpu = new LayersKilnModel(user, 'cpu', false);
  const input: KilnModel = (engine.tfjsBackend ?? backend) === 'cpu' ? onCpu : await engine.prepare(onCpu);
  let session: ValidationSession | undefined;
  const guards: { user?: WeightGuard; input?: WeightGuard } = {};
  try {
    runOnce(input, samples); // first-call kernel set-up is not the plugin's allocation
    session = run.resolve(Validator).prepare(new LayersKilnModel(user, 'cpu', false, 'reference on cpu'), samples, config.validation, config.mode);
    guards.user = WeightGuard.capture(layersModelFormat.weights(user));
    if (input.layersModel && input.layersModel !== user) guards.input = WeightGuard.capture(layersModelFormat.weights(input.layersModel));
    const changed = () => ({ user: guards.user!.changed(), input: guards.input?.changed() ?? [] });

    const validation = session;
    const makeContext = (signal: AbortSignal): PluginContext<object> => ({
      options: plugin.pluginOptions ?? {},
      mode: config.mode,
      sampleInputs: samples,
      signal,
      note: (message) => notes.push(message),
      metric: () => undefined,
      table: () => undefined,
      validation: { inputSets: validation.inputSetLabels, check: (m, budget) => validation.check(m, budget) },
    });

    const before = memory();
    const outcome = await applyWithLimit(instance, input, makeContext, limit);
    notes.push(...logger.lines);
    const checks: ConformanceCheck[] = [];
    const afterApply = changed();

    // Time limit.
    checks.push(outcome.timedOut
      ? check('time-limit', 'failed', `apply took more than its time limit of ${limit} ms (${outcome.ms.toFixed(0)} ms when given up on). Check context.signal in long loops and return or throw when it is aborted.`)
      : check('time-limit', 'passed', `apply took ${outcome.ms.toFixed(0)} ms (limit ${limit} ms)`));
    if (outcome.timedOut) {
      const why = 'apply did not finish within its time limit';
      const mutated = afterApply.user.length + afterApply.input.length > 0;
      return {
        checks: [
          mutated ? check('input-untouched', 'failed', `apply changed weights of ${describeChanged(afterApply.user, afterApply.input)}`) : check('input-untouched', 'passed', 'no weight changed while apply ran'),
          checks[0]!,
          check('tolerance', 'failed', `${why}: there is no result to validate`),
          check('no-leak-per-call', 'skipped', why),
          check('dispose-frees', 'skipped', why),
          check('dispose-safe', 'skipped', why),
        ],
        applied: 'timed out',
        notes,
      };
    }

    const result = outcome.result;
    if (!result) {
      // apply threw: rejected on purpose, or failed.
      const rejected = outcome.error instanceof CandidateRejectedError;
      const mutated = afterApply.user.length + afterApply.input.length > 0;
      const left = memory();
      const leftTensors = left.tensors - before.tensors;
      const leftIds = left.dataIds - before.dataIds;
      return {
        checks: [
          mutated ? check('input-untouched', 'failed', `apply changed weights of ${describeChanged(afterApply.user, afterApply.input)}`) : check('input-untouched', 'passed', 'no weight changed'),
          checks[0]!,
          rejected
            ? (outcome.error as Error).message.trim()
              ? check('tolerance', 'passed', `reported itself rejected: ${(outcome.error as Error).message}`)
              : check('tolerance', 'failed', 'threw CandidateRejectedError without a message; say why no result was possible')
            : check('tolerance', 'failed', `apply threw: ${describeError(outcome.error)}. A plugin returns its input when there is nothing to change, and throws CandidateRejectedError when it finds no result within its constraints.`),
          check('no-leak-per-call', 'skipped', `apply ${rejected ? 'rejected' : 'threw'}: no model to call`),
          leftTensors > 0 || leftIds > 0
            ? check('dispose-frees', 'failed', `after apply ${rejected ? 'rejected' : 'threw'}, ${plural(leftTensors, 'tensor')} and ${plural(leftIds, 'backend buffer')} it allocated were still held; free them before throwing`)
            : check('dispose-frees', 'passed', `apply ${rejected ? 'rejected' : 'threw'} and left nothing behind`),
          check('dispose-safe', 'skipped', `apply ${rejected ? 'rejected' : 'threw'}: no model to dispose`),
        ],
        applied: rejected ? 'rejected' : 'threw',
        notes,
      };
    }

    if (result === input) {
      const left = memory();
      const mutated = afterApply.user.length + afterApply.input.length > 0;
      const why = `returned its input: ${notes.at(-1) ?? 'nothing to change'}`;
      return {
        checks: [
          mutated ? check('input-untouched', 'failed', `apply changed weights of ${describeChanged(afterApply.user, afterApply.input)}`) : check('input-untouched', 'passed', 'no weight changed'),
          checks[0]!,
          check('tolerance', 'passed', why),
          check('no-leak-per-call', 'skipped', why),
          left.tensors !== before.tensors || left.dataIds !== before.dataIds
            ? check('dispose-frees', 'failed', `it returned its input but still holds ${plural(left.tensors - before.tensors, 'tensor')} and ${plural(left.dataIds - before.dataIds, 'backend buffer')} it allocated; free what it made before returning`)
            : check('dispose-frees', 'passed', 'it returned its input and left nothing behind'),
          check('dispose-safe', 'skipped', why),
        ],
        applied: 'input returned',
        notes,
      };
    }

    // A new model: use it, validate it, count what it holds and what dispose frees.
    let useError: string | undefined;
    let perCall: { tensors: number; dataIds: number } | undefined;
    try {
      runOnce(result, samples);
      const start = memory();
      const calls = 3;
      for (let i = 0; i < calls; i++) runOnce(result, samples);
      const end = memory();
      perCall = { tensors: (end.tensors - start.tensors) / calls, dataIds: (end.dataIds - start.dataIds) / calls };
    } catch (error) {
      useError = describeError(error);
    }
    let tolerance: ConformanceCheck;
    let drift: string | undefined;
    try {
      const budget = result.validationBudget;
      const v = session.check(result, budget);
      const declared = budget ? `its accuracy budget` : `validation.atol ${config.validation.atol} / rtol ${config.validation.rtol}`;
      if (v.passed) tolerance = check('tolerance', 'passed', `within ${declared} on ${v.inputSets.length} input sets (max |diff| ${v.maxAbsDiff.toExponential(2)})`);
      else {
        drift = `its result is not within ${declared}: ${v.reason}`;
        tolerance = check('tolerance', 'failed', `${drift}. Check your result with context.validation.check and throw CandidateRejectedError when it does not hold.`);
      }
    } catch (error) {
      tolerance = check('tolerance', 'failed', `validation could not run its result: ${describeError(error)}`);
    }
    const afterUse = changed();
    const held = memory();
    let disposeError: string | undefined;
    try {
      result.dispose();
    } catch (error) {
      disposeError = describeError(error);
    }
    const afterDispose = memory();
    let secondDisposeError: string | undefined;
    try {
      result.dispose();
    } catch (error) {
      secondDisposeError = describeError(error);
    }
    let inputError: string | undefined;
    try {
      runOnce(input, samples);
    } catch (error) {
      inputError = describeError(error);
    }
    const inputAfter = changed();
    const mutatedNames = { user: [...new Set([...afterApply.user, ...afterUse.user])], input: [...new Set([...afterApply.input, ...afterUse.input])] };

    checks.unshift(mutatedNames.user.length + mutatedNames.input.length
      ? check('input-untouched', 'failed', `weights changed (during apply or while its result ran) in ${describeChanged(mutatedNames.user, mutatedNames.input)}. Never write into the input's weights: copy them.`)
      : check('input-untouched', 'passed', 'no weight of the input or the user model changed during apply or while its result ran'));
    checks.push(tolerance);
    checks.push(useError !== undefined
      ? check('no-leak-per-call', 'failed', `its result threw when called: ${useError}`)
      : perCall!.tensors > 0 || perCall!.dataIds > 0
        ? check('no-leak-per-call', 'failed', `each predict call leaves ${perCall!.tensors} tensor(s) and ${perCall!.dataIds} backend buffer(s) behind (tf.memory().numTensors grows on every call); wrap the call in tf.tidy or dispose intermediates`)
        : check('no-leak-per-call', 'passed', 'no tensor or backend buffer left behind per call'));
    const leftTensors = afterDispose.tensors - before.tensors;
    const leftIds = afterDispose.dataIds - before.dataIds;
    checks.push(disposeError !== undefined
      ? check('dispose-frees', 'failed', `dispose() threw: ${disposeError}`)
      : leftTensors !== 0 || leftIds !== 0
        ? check('dispose-frees', 'failed', `after dispose() ${plural(leftTensors, 'tensor')} and ${plural(leftIds, 'backend buffer')} are still held of the ${plural(held.tensors - before.tensors, 'tensor')} its model held; dispose() must free everything apply allocated${leftTensors < 0 ? ' (a negative count: it freed tensors that were not its own)' : ''}`)
        : check('dispose-frees', 'passed', held.tensors > before.tensors ? `dispose() freed all ${plural(held.tensors - before.tensors, 'tensor')} its model held` : 'its model held no tensors of its own, and none were left after dispose()'));
    const unsafe: string[] = [];
    if (secondDisposeError !== undefined) unsafe.push(`a second dispose() threw: ${secondDisposeError}`);
    if (inputError !== undefined) unsafe.push(`its input no longer runs after dispose(): ${inputError}`);
    const disposedInput = [...inputAfter.user, ...inputAfter.input].filter((n) => !mutatedNames.user.includes(n) && !mutatedNames.input.includes(n));
    if (disposedInput.length) unsafe.push(`dispose() touched the input's weights (${disposedInput.slice(0, 5).join(', ')}); it must free only what apply made`);
    checks.push(unsafe.length ? check('dispose-safe', 'failed', unsafe.join('; ')) : check('dispose-safe', 'passed', 'the input still runs, and dispose() twice is harmless'));
    return { checks, applied: 'new model', notes, ...(drift ? { drift } : {}) };
  } finally {
    // Leave the user's weights as they were for the pipeline check, whatever the plugin did.
    guards.user?.restore();
    guards.user?.dispose();
    guards.input?.dispose();
    session?.dispose();
    input.dispose();
  }
}

/** The plugin alone through `optimize()`: its decision, and nothing left behind once the result is disposed. */
async function checkPipeline(plugin: PreparedPlugin, user: tf.LayersModel, samples: tf.Tensor[], options: ConformanceOptions): Promise<{ check: ConformanceCheck; decision?: Decision }> {
  const meta = plugin.meta!;
  const guard = WeightGuard.capture(layersModelFormat.weights(user));
  const logger = new CollectingLogger();
  try {
    const before = memory();
    let decision: Decision | undefined;
    try {
      const { model, report } = await optimize(user, { sampleInputs: samples, config: plugin.rawConfig!, container: plugin.container!, logger });
      decision = report.decisions.find((d) => d.plugin === meta.name);
      model.dispose();
    } catch (error) {
      return { check: check('pipeline', 'failed', `optimize() threw: ${describeError(error)}`) };
    }
    const after = memory();
    const problems: string[] = [];
    if (!decision) problems.push(`the report has no decision for ${meta.name}`);
    else {
      if (!ACCEPTABLE_STATUSES.includes(decision.status)) problems.push(`the pipeline ${decision.status === 'failed' ? 'failed it' : `gave it status ${decision.status}`}: ${decision.reason}`);
      else if (options.strictTolerance && decision.status === 'rejected' && decision.reason.startsWith('numerical mismatch')) {
        problems.push(`the pipeline rejected its result for leaving the tolerance (${decision.reason}); under strictTolerance a plugin checks its own result and throws CandidateRejectedError instead`);
      }
      if (!decision.reason || decision.reason.trim() === '') problems.push(`its decision (${decision.status}) has no reason`);
    }
    if (after.tensors !== before.tensors || after.dataIds !== before.dataIds) {
      problems.push(`once the optimised model was disposed, ${plural(after.tensors - before.tensors, 'tensor')} and ${plural(after.dataIds - before.dataIds, 'backend buffer')} were still held`);
    }
    const mutated = guard.changed();
    if (mutated.length) problems.push(`the user's weights changed: ${mutated.slice(0, 5).join(', ')}`);
    const summary = decision ? `${decision.status}: ${decision.reason}` : 'no decision';
    return { check: problems.length ? check('pipeline', 'failed', problems.join('; ')) : check('pipeline', 'passed', summary), ...(decision ? { decision } : {}) };
  } finally {
    guard.restore();
    guard.dispose();
  }
}
