import type { KilnMode, PluginObjective } from '../plugin.js';

/**
 * What became of one candidate:
 * - `applied`: available, applied, validated and met its objective: kept.
 * - `rejected`: ran, but drifted numerically or missed its objective (e.g. not faster): rolled back.
 * - `failed`: threw, overran its time limit, leaked tensors or touched the user's weights: rolled back.
 * - `unavailable`: cannot run here (reason says why, e.g. "package not installed").
 * - `skipped`: not tried, or had nothing to change (reason says which).
 */
export type DecisionStatus = 'applied' | 'rejected' | 'failed' | 'unavailable' | 'skipped';

export type MetricValue = number | string | boolean;

export interface Decision {
  /** Index of the slot in the pipeline (0-based). */
  readonly slot: number;
  readonly plugin: string;
  readonly kind: string;
  readonly objective: PluginObjective;
  readonly status: DecisionStatus;
  /** Why, in words; for `applied`, what it gained. */
  readonly reason: string;
  /** Figures: applyMs, coldMs, maxAbsDiff, baselineMedianMs, candidateMedianMs, speedup, ... */
  readonly metrics: Record<string, MetricValue>;
  /** Lines the plugin added while it ran. */
  readonly notes: readonly string[];
  /** Tables the plugin added (e.g. one row per weight), by name; absent when none. */
  readonly tables?: Record<string, readonly Record<string, MetricValue>[]>;
  /**
   * The error behind a `failed` or `rejected` decision, as the plugin (or Kiln) threw it,
   * with its stack. Not enumerable: the JSON report carries the `reason`, code can read this.
   */
  readonly cause?: unknown;
}

/** A summary of how the final model compares with plain tf.js. */
/**
 * The final model against plain tf.js. The headline is the user's model with its own
 * predict on the best backend Kiln validated (the backend slot's pick, e.g. wasm: what a
 * plain tf.js user gets with one import); `versusCpu` is the same on cpu, tf.js's default
 * in Node. Without a backend pick the headline is the cpu figure.
 */
export interface EndToEnd {
  /** What plain tf.js runs, e.g. `plain tf.js: GraphModel.execute on wasm`. */
  readonly baseline: string;
  readonly baselineMedianMs: number;
  readonly optimizedMedianMs: number;
  /** baselineMedianMs / optimizedMedianMs. */
  readonly speedup: number;
  /** The 95% interval of the speed-up over paired runs, where it was a two-model comparison. */
  readonly interval?: { readonly low: number; readonly high: number };
  /** True when Kiln's result is that plain model itself (nothing beyond the backend choice held up): the speed-up is 1 by definition. */
  readonly keptPlain?: boolean;
  /** Timed runs of each model. */
  readonly iterations: number;
  /**
   * Where Kiln's model runs outside tf.js (onnxruntime) and the user's model was timed on
   * several plain tf.js backends: the slower ones (the headline is the fastest).
   */
  readonly slowerPlain?: readonly { readonly baseline: string; readonly baselineMedianMs: number; readonly speedup: number }[];
  /**
   * The same against plain predict on cpu, where the headline is another backend. `timedIn`:
   * where the cpu median was measured when it is reused from a candidate's comparison in the
   * same run (`backend-wasm's comparison, 5 runs`) rather than timed again.
   */
  readonly versusCpu?: {
    readonly baseline: string;
    readonly baselineMedianMs: number;
    readonly speedup: number;
    readonly timedIn?: string;
  };
}

/** One batch size of a shape profile: the report of the pipeline run at that batch. */
export interface ProfileEntry {
  readonly batch: number;
  readonly report: KilnReport;
}

/** A run for a shape profile (config `shapes:`): one pipeline run per batch size, and how calls are routed. */
export interface ShapeProfileReport {
  /** The profile's batch sizes, smallest first. */
  readonly batches: readonly number[];
  /** How the optimised model routes each call, in words (batch sizes outside the profile included). */
  readonly rule: string;
  readonly entries: readonly ProfileEntry[];
}

export interface KilnReport {
  readonly kilnVersion: string;
  readonly tfjsVersion: string;
  readonly mode: KilnMode;
  /** The format of the model Kiln was given: its registered name (`graph-model`) and what users call it (`tf.GraphModel`). */
  readonly model: { readonly format: string; readonly displayName: string };
  readonly startedAt: string;
  readonly durationMs: number;
  /** The backend whose kernels computed the final model's outputs (read off an output tensor). */
  readonly backend: string;
  /** How the final model runs. */
  readonly final: string;
  readonly decisions: Decision[];
  readonly endToEnd?: EndToEnd;
  /**
   * Present for a shape profile of several batch sizes: every batch's own report. The
   * fields above are then the first batch's, except `final` (the dispatch) and `durationMs` (the whole run).
   */
  readonly profile?: ShapeProfileReport;
  readonly validation: {
    /**
     * The check every output not covered by a budget is held to (see `defaultTerms`):
     * `tolerance` (scale-aware; absent when only atol/rtol are in force), `atol` and
     * `rtol` (element-wise; present only when the config sets one of them).
     */
    readonly tolerance?: number;
    readonly atol?: number;
    readonly rtol?: number;
    /** That check in words: `max |diff| <= 0.0001 x the output scale (max |original|)`. */
    readonly check: string;
    readonly inputSets: readonly string[];
    /** On a batch above 8 rows: which rows of each input set were compared, and why (see `buildValidationInputs`). */
    readonly rows?: string;
    /** The accuracy budget the final model was validated under, when a kept plugin set one (see KilnModel.validationBudget). */
    readonly budget?: Record<string, Record<string, number | string>>;
    /**
     * The final model checked once more against the original, after every candidate ran
     * (a later candidate may have damaged what an earlier one was validated as); absent
     * when Kiln kept nothing.
     */
    readonly final?: { readonly maxAbsDiff: number };
  };
}
