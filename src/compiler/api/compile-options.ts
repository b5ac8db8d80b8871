import type * as tf from '@tensorflow/tfjs';
import type { Logger } from '../../core/logger.js';
import type { KilnMode } from '../../core/plugin.js';
import type { ExecutorChoice } from '../executors/executor.js';
import { executorNames, isExecutorName } from '../executors/registry.js';
import { DEFAULT_RECOMPILE_LIMIT, type CompileMode, type GraphFunctionSettings } from '../graph-function.js';
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
  /** Turn a recompile or an eager fallback into an error (for CI). */
  readonly strict?: boolean;
  /**
   * `auto` (default) measures the replay against the other registered executors (direct kernel calls) and
   * keeps the fastest; a registered executor's name (`replay`, `direct`) forces that one.
   */
  readonly executor?: ExecutorChoice;
  /** Timed calls per executor when choosing (default 5; 0 skips the measurement and replays). */
  readonly selectionRuns?: number;
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
    mode: options.mode ?? defaultMode,
    disabledPasses: options.disablePasses ?? [],
    executor,
    selectionRuns: options.selectionRuns ?? 5,
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
