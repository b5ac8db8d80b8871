import type { KilnReport } from '../core/pipeline/report.js';

/** What the figures were measured on. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly platform: string;
  readonly node: string;
  readonly tfjs: string;
  /** Flags per backend that change its speed (e.g. wasm: "SIMD on, threads off"). */
  readonly backendFlags: Readonly<Record<string, string>>;
  /** All of the above in one line, printed beside every table. */
  readonly description: string;
}

/** One variant's figures in one cell (model, backend, batch). */
export interface VariantResult {
  readonly name: string;
  /** The tf.js backend whose kernels computed its outputs (read off an output tensor). */
  readonly ranOn?: string;
  /** How it runs, in a few words (e.g. what Kiln kept). */
  readonly description?: string;
  /** Set when this cell's figures are another variant's (the same model on the same backend), copied rather than timed twice. */
  readonly sameAs?: string;
  /** Set when the variant could not be built or run here; then no figures. */
  readonly error?: string;
  /**
   * Set when the variant was left out of this cell on purpose, with why: a slow cell, or
   * a variant that does not apply to the model (a layers-only rewrite of a graph model).
   */
  readonly skipped?: string;
  /** Milliseconds to build it (copy, compile, fuse, or Kiln's whole optimize() run). */
  readonly buildMs?: number;
  /** The first call after it was built (building may already have run it: see the variant's description). */
  readonly coldMs?: number;
  readonly medianMs?: number;
  readonly p10Ms?: number;
  readonly p90Ms?: number;
  readonly meanMs?: number;
  readonly sdMs?: number;
  /** Timed calls kept after dropping outliers (beyond outlierSigma standard deviations). */
  readonly samples?: number;
  readonly outliersDropped?: number;
  /** Achieved GFLOP/s: the cell's FLOP count over the median. */
  readonly gflops?: number;
  /** Every timed call in order, ms (3 decimals), outliers included: the report draws them. */
  readonly timingsMs?: readonly number[];
  /** Set when a slow call capped how often it was timed (see BenchSettings.slowVariantRounds), with why. */
  readonly capped?: string;
}

/** One model at one backend and batch size, every variant timed interleaved. */
export interface CellResult {
  readonly model: string;
  readonly backend: string;
  readonly batch: number;
  /** FLOPs of one call of the model at this batch, counted from its traced kernels (see flops.ts); NaN when unknown. */
  readonly flops: number;
  /** Why `flops` is unknown (NaN), when it is. */
  readonly flopsUnknown?: string;
  /** The format of the model (`layers-model`, `graph-model`, ...). */
  readonly format?: string;
  readonly warmupRounds: number;
  readonly rounds: number;
  readonly variants: readonly VariantResult[];
  /** median of `predict` / median of each variant: > 1 is faster than predict on this backend. */
  readonly vsPredict: Readonly<Record<string, number>>;
  /** median of `plain-tfjs` / median of each variant: > 1 is faster than a plain tf.js user gets on its default backend (cpu in Node). */
  readonly vsPlain: Readonly<Record<string, number>>;
  /**
   * median of `plain-wasm` / median of each variant: > 1 is faster than the best a plain
   * tf.js user has in Node without tfjs-node (the stock model's own predict on wasm). The
   * headline ratio of the summary. Absent in results written before it existed.
   */
  readonly vsPlainWasm?: Readonly<Record<string, number>>;
}

/** Kiln's own report of the optimize() run behind the `kiln` variant of one model and backend. */
export interface OptimizeRun {
  readonly model: string;
  readonly backend: string;
  readonly report: KilnReport;
}

export interface BenchSettings {
  readonly budgetMs: number;
  readonly minRounds: number;
  readonly maxRounds: number;
  readonly warmupRounds: number;
  readonly outlierSigma: number;
  readonly seed: number;
  /** A cell whose predict takes longer than this per call (its cold call) leaves out the optional variants; 0: never. */
  readonly slowCallMs: number;
  /**
   * In a cell whose predict is not slow, a variant whose cold call took longer than
   * `slowCallMs` (a reference on a slower backend: plain tf.js on cpu beside wasm) is
   * timed in this many rounds only, the first ones; 0: no cap. Absent in results written
   * before it existed (no cap).
   */
  readonly slowVariantRounds?: number;
}

/** A regression check of one ratio against a stored baseline. */
export interface RatioComparison {
  readonly model: string;
  readonly backend: string;
  readonly batch: number;
  readonly variant: string;
  readonly then: number;
  readonly now: number;
  /** (now - then) / then, in percent. */
  readonly changePct: number;
  readonly regressed: boolean;
}

export interface BaselineCheck {
  readonly file: string;
  readonly maxRegressionPct: number;
  readonly comparisons: readonly RatioComparison[];
  /** Cells measured now that the baseline has no ratio for (not compared). */
  readonly notInBaseline: readonly string[];
  readonly regressions: number;
}

/** Everything one `kiln bench` run measured: what --json prints and the HTML report draws. */
export interface BenchResult {
  readonly kind: 'kiln-bench';
  readonly kilnVersion: string;
  readonly tfjsVersion: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: MachineInfo;
  readonly settings: BenchSettings;
  /** Kiln's preferred backend among those that run here: what `best-backend` runs on. */
  readonly bestBackend: string;
  /** Backends in Kiln's preference list that cannot run here, with why. */
  readonly unavailableBackends: Readonly<Record<string, string>>;
  /** The variants measured, in table order. */
  readonly variants: readonly { readonly name: string; readonly description: string }[];
  readonly cells: readonly CellResult[];
  readonly optimizeRuns: readonly OptimizeRun[];
  /** Set when --baseline was given. */
  readonly baseline?: BaselineCheck;
}
