import type * as tf from '@tensorflow/tfjs';
import type { Logger } from '../../core/logger.js';
import type { KilnMode } from '../../core/plugin.js';
import type { ExecutorChoice } from '../executors/executor.js';
import { executorNames, isExecutorName } from '../executors/registry.js';
import { DEFAULT_RECOMPILE_LIMIT, type CompileMode, type GraphFunctionSettings } from '../graph-function.js';
import { DEFAULT_VERIFY, VERIFY_POLICIES, type VerifyPolicy, type VerifySettings } from '../verify.js';
import type { GraphPass } from '../passes/graph-pass.js';

/** Options of `compile()`, `@compiled()` and the `graph-compile` plugin. */
export interface CompileOptions {
  /**
   * `inference` (default for compile() and models), `training` (every pass gradient-exact, always replayed
   * through the tape), or `auto` (default for @compiled: training under a gradient tape, inference otherwise;
   * each phase gets its own plan).
   */
  readonly mode?: CompileMode;
  /** Graph passes to skip by name: dead-code, cse, constant-folding, noop-removal, memory-plan. */
  readonly disablePasses?: readonly string[];
  /** Signatures to compile at most (default 8, as torch.compile); past it new signatures run eagerly with one warning. */
  readonly recompileLimit?: number;
  /** Turn a recompile, an eager fallback or a verify mismatch into a `CompileStrictError` (for CI). */
  readonly strict?: boolean;
  /**
   * Which replayed calls also run the original function eagerly and compare its outputs with the plan's
   * (within `verifyTolerance`). A trace freezes the JavaScript state the function closes over (a number,
   * a flag, a tensor variable rebound later), and JavaScript gives Kiln no way to guard on it as
   * torch.compile guards on Python globals; verifying is how a change shows up. A mismatch is a
   * `CompileStrictError` under `strict`; otherwise that call returns the eager outputs, the signature runs
   * eagerly from then on, and the logger gets one warning (`stats().eager`, cause `verify-mismatch`).
   *
   * - `first-n` (default): the first `verifyFirst` (default 1) replayed calls of each plan. Cheap (one
   *   extra eager call per plan); catches state changed between the trace and the first replay only.
   * - `every-n`: the 1st replayed call of each plan and every `verifyEvery`-th (default 100) after it.
   * - `always`: every replayed call (eager cost and more: a debugging aid).
   * - `off`: none.
   *
   * A verified call runs the function twice: its JavaScript side effects run twice on those calls.
   */
  readonly verify?: VerifyPolicy;
  /** Replayed calls verified per plan under `verify: 'first-n'` (default 1). */
  readonly verifyFirst?: number;
  /** Under `verify: 'every-n'`, the period in replayed calls (default 100). */
  readonly verifyEvery?: number;
  /** How close the plan's outputs must be to eager's: |plan - eager| <= atol + rtol * |eager| (default 1e-4, 1e-3). */
  readonly verifyTolerance?: { readonly atol?: number; readonly rtol?: number };
  /**
   * `auto` (default) measures the replay against the other registered executors (direct kernel calls) and
   * keeps the fastest; a registered executor's name (`replay`, `direct`) forces that one.
   */
  readonly executor?: ExecutorChoice;
  /** Timed calls per executor when choosing, at most (default 5; 0 skips the measurement and replays). */
  readonly selectionRuns?: number;
  /**
   * Wall-clock budget of the executor choice at each signature, in ms (default 250): after one
   * timed round, no new round starts once it is spent, so a slow call (a large batch) is timed fewer times.
   */
  readonly selectionBudgetMs?: number;
  /** Compile now, with these inputs, so that failures surface at `compile()` rather than at the thousandth call. */
  readonly sampleInputs?: tf.Tensor | readonly tf.Tensor[];
  /**
   * Gets the warnings: the recompile limit (once), a verify mismatch (once per signature), and graph breaks.
   * Default: `console.warn` for the first two; graph breaks are in `stats()` and `explain()`, and reach only
   * a logger you pass (as torch.compile logs them only on request).
   */
  readonly logger?: Logger;
  /** Name in warnings and stats. */
  readonly name?: string;
  /** Passes to run after the built-in ones (the op-fusion plugin adds its fusion pass here). */
  readonly extraPasses?: readonly GraphPass[];
}

/** The default logger of compiled functions: warnings to `console.warn` (in Node and in browsers), nothing else. */
export const CONSOLE_WARNINGS: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => console.warn(`kiln: ${message}`),
};

/** The compiler's settings for these options (defaults filled in); a TypeError for an executor that is not registered. */
export function graphFunctionSettings(
  options: CompileOptions,
  name: string,
  layers?: readonly tf.layers.Layer[],
  defaultMode: CompileMode = 'inference',
): GraphFunctionSettings {
  const executor = options.executor ?? 'auto';
  if (executor !== 'auto' && !isExecutorName(executor)) {
    throw new TypeError(`executor must be one of: auto, ${executorNames().join(', ')} (got ${JSON.stringify(executor)})`);
  }
  return {
    verify: verifySettings(options),
    mode: options.mode ?? defaultMode,
    disabledPasses: options.disablePasses ?? [],
    executor,
    selectionRuns: options.selectionRuns ?? 5,
    ...(options.selectionBudgetMs !== undefined ? { selectionBudgetMs: options.selectionBudgetMs } : {}),
    recompileLimit: options.recompileLimit ?? DEFAULT_RECOMPILE_LIMIT,
    strict: options.strict ?? false,
    name: options.name ?? name,
    logger: options.logger ?? CONSOLE_WARNINGS,
    logGraphBreaks: options.logger !== undefined,
    layers,
    extraPasses: options.extraPasses,
  };
}

export function sampleList(samples: tf.Tensor | readonly tf.Tensor[] | undefined): tf.Tensor[] | undefined {
  if (samples === undefined) return undefined;
  return Array.isArray(samples) ? [...samples] : [samples as tf.Tensor];
}

/** The verify settings of these options (defaults filled in); a TypeError for a policy or a count that makes no sense. */
export function verifySettings(options: CompileOptions): VerifySettings {
  const policy = options.verify ?? DEFAULT_VERIFY.policy;
  if (!VERIFY_POLICIES.includes(policy)) {
    throw new TypeError(`verify must be one of: ${VERIFY_POLICIES.join(', ')} (got ${JSON.stringify(policy)})`);
  }
  const count = (name: 'verifyFirst' | 'verifyEvery', fallback: number): number => {
    const n = options[name] ?? fallback;
    if (!Number.isInteger(n) || n < 1) throw new TypeError(`${name} must be a whole number of calls, 1 or more (got ${JSON.stringify(n)})`);
    return n;
  };
  const tolerance = (name: 'atol' | 'rtol'): number => {
    const t = options.verifyTolerance?.[name] ?? DEFAULT_VERIFY[name];
    if (!(t >= 0)) throw new TypeError(`verifyTolerance.${name} must be a number, 0 or more (got ${JSON.stringify(t)})`);
    return t;
  };
  return {
    policy,
    first: count('verifyFirst', DEFAULT_VERIFY.first),
    every: count('verifyEvery', DEFAULT_VERIFY.every),
    atol: tolerance('atol'),
    rtol: tolerance('rtol'),
  };
}
