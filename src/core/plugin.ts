import type * as tf from '@tensorflow/tfjs';
import type { KilnMode } from '../config/kiln-mode.js';
import type { KilnModel } from './kiln-model.js';

export type { KilnMode } from '../config/kiln-mode.js';
import type { ValidationBudget } from './validation/budget.js';
import type { ValidationResult } from './validation/validator.js';

/** What a plugin optimises for; decides how the pipeline judges its result. */
export type PluginObjective = 'latency' | 'size' | 'memory';

/** The families of built-in plugins; third parties may use their own strings. */
export type PluginKind = 'backend' | 'compile' | 'fusion' | 'precision' | (string & {});

/** Static description of a plugin, given to `@Plugin({...})`. */
export interface PluginMeta {
  /** Unique name used in kiln.yaml (`pipeline: [{ name }]`). */
  readonly name: string;
  readonly kind: PluginKind;
  readonly objective: PluginObjective;
  /** One line for `kiln plugins`. */
  readonly description: string;
  /**
   * Class of the plugin's options. `options:` in the config is turned into an
   * instance of it and validated with class-validator (whitelist, no unknown keys).
   * Defaults are the class's property initialisers.
   */
  readonly optionsClass?: new () => object;
  /** Time limit for `isAvailable` and `apply`, each, in ms, unless the config says otherwise: a whole number from 1 to 2147483647. */
  readonly timeLimitMs?: number;
}

export type Availability = { readonly available: true } | { readonly available: false; readonly reason: string };

export const AVAILABLE: Availability = Object.freeze({ available: true });
export function unavailable(reason: string): Availability {
  return { available: false, reason };
}

/** What `isAvailable` is told: enough to answer without a model (`kiln plugins` asks too). */
export interface AvailabilityContext {
  readonly mode: KilnMode;
}

/** What a plugin is told about the run it is part of. */
export interface PluginContext<Options = object> {
  /** The plugin's validated options (an instance of its `optionsClass`, or `{}`). */
  readonly options: Options;
  readonly mode: KilnMode;
  /** The user's sample inputs (owned by the caller: do not dispose). */
  readonly sampleInputs: readonly tf.Tensor[];
  /** Aborted when the plugin's time limit passes; long work should check it. */
  readonly signal: AbortSignal;
  /** Adds a line to this candidate's entry in the report. */
  note(message: string): void;
  /** Adds a figure to this candidate's entry in the report. */
  metric(name: string, value: number | string | boolean): void;
  /**
   * Adds a table (rows of figures, e.g. one per weight) to this candidate's entry in
   * the report, under `name`. Absent where the context was not made by the pipeline.
   */
  table?(name: string, rows: readonly Record<string, number | string | boolean>[]): void;
  /**
   * The pipeline's own validation, for plugins that search under an accuracy budget:
   * `check` judges a model exactly as the pipeline will judge this plugin's result
   * (against the original on cpu, on every input set). Absent where the context was
   * not made by the pipeline.
   */
  readonly validation?: PluginValidation;
}

/** What a plugin may use of the pipeline's validation (see {@link PluginContext.validation}). */
export interface PluginValidation {
  /** Labels of the input sets every candidate is checked on (the user's samples first). */
  readonly inputSets: readonly string[];
  /** Checks `model` against the original; with a `budget`, under it instead of the default check (validation.tolerance, or atol/rtol). */
  check(model: KilnModel, budget?: ValidationBudget): ValidationResult;
}

/**
 * One optimisation. Its name, kind, objective and description are given once, to
 * `@Plugin({...})` on the class. The pipeline asks `isAvailable`, then `apply`, then
 * validates and benchmarks the result against what it had, and keeps it or rolls it back.
 *
 * `apply` must never mutate its input: it returns a new KilnModel, and anything it
 * allocates belongs to that model (freed by its `dispose`). Returning the input
 * itself means "nothing to change here" (the report shows the candidate `skipped`,
 * with the last `context.note` as the reason).
 */
export interface OptimizationPlugin<Options = object> {
  /**
   * Whether the plugin can run here at all (packages present, hardware, mode), with
   * the reason when not. Model-specific "nothing to do" is `apply` returning its input.
   */
  isAvailable(context: AvailabilityContext): Promise<Availability> | Availability;
  apply(target: KilnModel, context: PluginContext<Options>): Promise<KilnModel>;
}

export type PluginClass = new (...args: never[]) => OptimizationPlugin<never>;
