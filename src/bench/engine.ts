import * as tf from '@tensorflow/tfjs';
import type { KilnConfig } from '../config/kiln-config.js';
import { activateBackend, withBackend, withBackendAsync } from '../core/backend-scope.js';
import { summariseTimings } from '../core/benchmark/timing-stats.js';
import { describeError } from '../core/errors.js';
import type { StockModel } from '../core/formats/model-format.js';
import { outputsAsArray, type KilnModel } from '../core/kiln-model.js';
import type { KilnReport } from '../core/pipeline/report.js';
import { backendOfTensor } from '../core/tensor-backend.js';
import { KILN_VERSION } from '../core/version.js';
import { modelFlops } from './flops.js';
import { describeMachine } from './machine.js';
import type { BenchSource } from './sources.js';
import type { BenchResult, BenchSettings, CellResult, OptimizeRun, VariantResult } from './types.js';
import {
  PLAIN_TFJS,
  PLAIN_WASM,
  PREDICT,
  type BenchBackend,
  type BenchVariant,
  type Disposable,
  type GroupContext,
  type VariantContext,
} from './variants.js';

/** Where a cell is in the run, for progress displays. */
export interface CellKey {
  readonly model: string;
  readonly backend: string;
  readonly batch: number;
}

/** Events for progress displays (a terminal bar, log lines). */
export interface BenchObserver {
  cellStarted?(cell: CellKey, index: number, total: number): void;
  /** What the cell is doing now: "building fused", "warm-up", "timing". */
  phase?(cell: CellKey, what: string, roundsDone: number, roundsPlanned: number): void;
  cellDone?(cell: CellResult, index: number, total: number): void;
}

export interface BenchRunOptions {
  readonly sources: readonly BenchSource[];
  /** Backends the cells run on, brought up already. */
  readonly backends: readonly BenchBackend[];
  /** Kiln's preferred backend among those that run here (brought up already). */
  readonly bestBackend: BenchBackend;
  readonly unavailableBackends?: Readonly<Record<string, string>>;
  readonly batches: readonly number[];
  /** The variants, in table order; must include `predict` (every ratio's reference). */
  readonly variants: readonly BenchVariant[];
  readonly settings: BenchSettings;
  /** The config of Kiln's optimize() run for one backend. */
  optimizeConfig(backend: BenchBackend): Promise<KilnConfig>;
  readonly observer?: BenchObserver;
}

/** Default schedule: see {@link runBench}. */
export const DEFAULT_BENCH_SETTINGS: BenchSettings = {
  budgetMs: 2500,
  minRounds: 15,
  maxRounds: 200,
  warmupRounds: 2,
  outlierSigma: 3,
  seed: 0,
  slowCallMs: 1000,
  slowVariantRounds: 5,
};

/**
 * Measures every model on every backend at every batch size (a cell): builds each
 * variant, times its first (cold) call, then warms up and times all of them
 * interleaved, round after round (A B C ... then ... C B A), so that machine noise
 * lands on all of them alike and the ratios hold on a noisy machine. A cell runs at
 * least `minRounds` timed rounds, then goes on until `budgetMs` is spent, at most
 * `maxRounds`. Slow cells (large batches on cpu) stay affordable: warm-up stops once it
 * has taken a quarter of the budget, and is skipped when the cold calls alone took
 * longer than the budget (they warmed up); where one call of predict takes longer
 * than `slowCallMs`, the optional variants are left out (with the reason). Where
 * predict is fast but another variant is slow (plain tf.js on cpu beside a wasm cell:
 * about 20x), that variant is timed in the first `slowVariantRounds` rounds only.
 *
 * A source may be of any registered format: the engine builds it once per model and
 * backend and makes every copy with its format's `copyTo`; variants that do not apply
 * to the format (a layer rewrite of a graph model) are left out, with the reason.
 *
 * Every call reads its outputs back (dataSync), in its own tf.tidy. Each variant gets
 * its own copy of the inputs on the backend it runs on, so no call pays for moving
 * them. Absolute times are for context; only ratios within one run compare.
 */
export async function runBench(options: BenchRunOptions): Promise<BenchResult> {
  if (!options.variants.some((v) => v.name === PREDICT))
    throw new Error(`the variants must include "${PREDICT}", the reference of every ratio`);
  const startedAt = new Date();
  const start = performance.now();
  const cells: CellResult[] = [];
  const optimizeRuns: OptimizeRun[] = [];
  const flopsCache = new Map<string, FlopsCount>();
  const total = options.backends.length * options.sources.length * options.batches.length;
  const initialBackend = tf.getBackend();
  try {
    for (const backend of options.backends) {
      for (const source of options.sources) {
        const group = new Group(source, backend, options, optimizeRuns);
        try {
          for (const batch of options.batches) {
            const key = { model: source.name, backend: backend.name, batch };
            options.observer?.cellStarted?.(key, cells.length, total);
            const flopsKey = `${source.name}@${batch}`;
            if (!flopsCache.has(flopsKey))
              flopsCache.set(flopsKey, await countModelFlops(source, options.bestBackend, batch, options.settings.seed));
            const cell = await measureCell(key, backend, group, flopsCache.get(flopsKey)!, options);
            cells.push(cell);
            options.observer?.cellDone?.(cell, cells.length - 1, total);
          }
        } finally {
          await group.dispose();
        }
      }
    }
  } finally {
    if (initialBackend && tf.findBackend(initialBackend)) activateBackend(initialBackend);
  }
  return {
    kind: 'kiln-bench',
    kilnVersion: KILN_VERSION,
    tfjsVersion: tf.version.tfjs,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - start),
    machine: await describeMachine(),
    settings: options.settings,
    bestBackend: options.bestBackend.name,
    unavailableBackends: options.unavailableBackends ?? {},
    variants: options.variants.map((v) => ({ name: v.name, description: v.description })),
    cells,
    optimizeRuns,
  };
}

/** A StockModel as a Disposable (its format frees it). */
function disposer(stock: StockModel): Disposable {
  return { dispose: () => stock.format.dispose(stock.model) };
}

/** Things that live as long as one model on one backend (all its batch sizes). */
class Group implements GroupContext {
  private readonly shared = new Map<string, Promise<Disposable>>();
  private readonly owned: Disposable[] = [];
  private base: Promise<StockModel> | undefined;

  constructor(
    private readonly source: BenchSource,
    readonly backend: BenchBackend,
    private readonly options: BenchRunOptions,
    private readonly runs: OptimizeRun[],
  ) {}

  get modelName(): string {
    return this.source.name;
  }

  get batches(): readonly number[] {
    return [...new Set(this.options.batches)].sort((a, b) => a - b);
  }

  /** A fresh copy on `backend`, made by the model's format from the group's one build of the source; the caller frees it. */
  async copy(backend: string): Promise<StockModel> {
    this.base ??= withBackendAsync(this.backend.tfName, () => this.source.build());
    const base = await this.base;
    return { format: base.format, model: await base.format.copyTo(base.model, backend) };
  }

  async buildModel(backend: string): Promise<StockModel> {
    const model = await this.copy(backend);
    this.owned.push(disposer(model));
    return model;
  }

  sampleInputs(model: StockModel, batch: number): tf.Tensor[] {
    const samples = this.sourceInputs(model, batch);
    this.owned.push({ dispose: () => tf.dispose(samples) });
    return samples;
  }

  /** The source's seeded inputs at `batch`; the caller frees them. */
  sourceInputs(model: StockModel, batch: number): tf.Tensor[] {
    return this.source.sampleInputs(model, batch, this.options.settings.seed);
  }

  optimizeConfig(): Promise<KilnConfig> {
    return this.options.optimizeConfig(this.backend);
  }

  recordOptimizeRun(report: KilnReport): void {
    this.runs.push({ model: this.source.name, backend: this.backend.name, report });
  }

  get<T extends Disposable>(key: string, make: (group: GroupContext) => Promise<T>): Promise<T> {
    let value = this.shared.get(key);
    if (!value) {
      const made: { value?: Disposable } = {};
      value = make(this).then((v) => (made.value = v));
      this.shared.set(key, value);
      // Freed before the models it was made from (owned is freed last to first); the
      // group is disposed after its cells, so the value has settled by then.
      this.owned.push({ dispose: () => made.value?.dispose() });
    }
    return value as Promise<T>;
  }

  /** Frees what the group made, last to first, then the one build of the source. */
  async dispose(): Promise<void> {
    for (const d of this.owned.reverse()) d.dispose();
    this.owned.length = 0;
    const base = await this.base?.catch(() => undefined);
    if (base) base.format.dispose(base.model);
    this.base = undefined;
  }
}

/** FLOPs of one call, or NaN and why they could not be counted. */
interface FlopsCount {
  readonly flops: number;
  readonly unknown?: string;
}

/** FLOPs of one call at `batch`, traced on a fresh build on the fastest backend; NaN (and why) when the trace fails. */
async function countModelFlops(source: BenchSource, backend: BenchBackend, batch: number, seed: number): Promise<FlopsCount> {
  let stock: StockModel | undefined;
  try {
    stock = await withBackendAsync(backend.tfName, () => source.build());
    const built = stock;
    return withBackend(backend.tfName, () => {
      const samples = source.sampleInputs(built, batch, seed);
      try {
        return { flops: modelFlops(built.format.wrap(built.model, backend.tfName, false), samples) };
      } finally {
        tf.dispose(samples);
      }
    });
  } catch (error) {
    return { flops: Number.NaN, unknown: `the call could not be traced on ${backend.name}: ${describeError(error)}` };
  } finally {
    if (stock) stock.format.dispose(stock.model);
  }
}

interface Running {
  readonly variant: BenchVariant;
  readonly model: KilnModel;
  readonly feed: tf.Tensor | tf.Tensor[];
  readonly timings: number[];
  readonly result: { -readonly [K in keyof VariantResult]: VariantResult[K] };
  /** Timed in this many rounds at most (a slow variant in a fast cell); no warm-up. */
  cap?: number;
}

/**
 * One cell (see {@link runBench}): its model and inputs on its backend, every variant
 * built and called once cold, then the warm-up and timed rounds, and the figures.
 */
async function measureCell(
  key: CellKey,
  backend: BenchBackend,
  group: Group,
  count: FlopsCount,
  options: BenchRunOptions,
): Promise<CellResult> {
  const { settings, observer } = options;
  const { flops } = count;
  const disposables: Disposable[] = [];
  const context = await prepareCell(key, backend, group, options, disposables);
  try {
    const { results, running } = await buildVariants(key, context, options, disposables);
    // Warm-up, then timed rounds, all variants interleaved.
    const warmupRounds = warmUp(key, running, settings, observer);
    const rounds = timeRounds(key, running, settings, observer);
    recordFigures(running, settings.outlierSigma, flops);
    const variants = results.map((r) =>
      r.sameAs ? { ...results.find((x) => x.name === r.sameAs)!, ...stripFigures(r), name: r.name, sameAs: r.sameAs } : r,
    );
    return {
      ...key,
      format: context.model.format.name,
      flops,
      ...(count.unknown ? { flopsUnknown: count.unknown } : {}),
      warmupRounds,
      rounds,
      variants,
      vsPredict: ratiosAgainst(variants, PREDICT),
      vsPlain: ratiosAgainst(variants, PLAIN_TFJS),
      vsPlainWasm: ratiosAgainst(variants, PLAIN_WASM),
    };
  } finally {
    for (const d of disposables.reverse()) d.dispose();
    activateBackend(backend.tfName);
  }
}

/**
 * Makes the cell's backend the active one, makes a fresh copy of the model and its
 * sample inputs on it, and returns what variants are built from. Everything it makes
 * (and every copy a variant builds) goes on `disposables`.
 */
async function prepareCell(
  key: CellKey,
  backend: BenchBackend,
  group: Group,
  options: BenchRunOptions,
  disposables: Disposable[],
): Promise<VariantContext> {
  activateBackend(backend.tfName);
  const model = await group.copy(backend.tfName);
  disposables.push(disposer(model));
  const samples = withBackend(backend.tfName, () => group.sourceInputs(model, key.batch));
  disposables.push({ dispose: () => tf.dispose(samples) });
  return {
    modelName: group.modelName,
    backend,
    bestBackend: options.bestBackend,
    batch: key.batch,
    model,
    samples,
    buildModel: async (b) => {
      const copy = await group.copy(b);
      disposables.push(disposer(copy));
      return copy;
    },
    shared: (k, make) => group.get(k, make),
  };
}

/**
 * Every variant's result, in table order, and those that run: a variant that is the
 * same as another here is only named (`sameAs`), an optional one is left out of a slow
 * cell (`skipped`), and one that fails to build or on its cold call keeps its error.
 */
async function buildVariants(
  key: CellKey,
  context: VariantContext,
  options: BenchRunOptions,
  disposables: Disposable[],
): Promise<{ results: VariantResult[]; running: Running[] }> {
  const { settings, observer } = options;
  const { backend } = context;
  const names = new Set(options.variants.map((v) => v.name));
  const results: VariantResult[] = [];
  const running: Running[] = [];
  let slow: string | undefined;
  for (const variant of options.variants) {
    const notApplicable = variant.notApplicable?.(context.model);
    if (notApplicable) {
      results.push({ name: variant.name, skipped: notApplicable });
      continue;
    }
    const alias = variant.sameAs?.({ backend, bestBackend: options.bestBackend });
    if (alias && names.has(alias) && alias !== variant.name) {
      results.push({ name: variant.name, sameAs: alias });
      continue;
    }
    if (variant.optional && slow) {
      results.push({ name: variant.name, skipped: slow });
      continue;
    }
    observer?.phase?.(key, `building ${variant.name}`, 0, 0);
    const result: Running['result'] = { name: variant.name };
    results.push(result);
    try {
      const coldMs = await buildAndCallOnce(variant, context, result, running, disposables);
      if (variant.name === PREDICT && settings.slowCallMs > 0 && coldMs > settings.slowCallMs) {
        slow = `slow cell: one call of ${PREDICT} took ${(coldMs / 1000).toFixed(1)} s (over ${settings.slowCallMs} ms), so optional variants are left out (--slow-call-ms 0 keeps them)`;
      }
    } catch (error) {
      result.error = describeError(error);
    }
    activateBackend(backend.tfName);
  }
  if (!slow) capSlowVariants(running, settings);
  return { results, running };
}

/**
 * In a cell whose predict is not slow, caps the variants whose cold call took longer
 * than `slowCallMs` at `slowVariantRounds` timed rounds (and no warm-up), saying so.
 */
function capSlowVariants(running: readonly Running[], settings: BenchSettings): void {
  const rounds = settings.slowVariantRounds ?? 0;
  if (rounds <= 0 || settings.slowCallMs <= 0) return;
  for (const r of running) {
    const cold = r.result.coldMs ?? 0;
    if (r.variant.name === PREDICT || cold <= settings.slowCallMs) continue;
    r.cap = rounds;
    r.result.capped = `slow: its cold call took ${(cold / 1000).toFixed(1)} s (over ${settings.slowCallMs} ms) where ${PREDICT} is fast, so it is timed in ${rounds} round(s) only, without warm-up (--slow-variant-rounds 0 lifts the cap)`;
  }
}

/**
 * Builds one variant, gives it its own copy of the inputs on the backend it runs on, and
 * times its first (cold) call into `result`; then adds it to `running` and returns the
 * cold call's milliseconds (unrounded).
 */
async function buildAndCallOnce(
  variant: BenchVariant,
  context: VariantContext,
  result: Running['result'],
  running: Running[],
  disposables: Disposable[],
): Promise<number> {
  const t0 = performance.now();
  const built = await variant.build(context);
  result.buildMs = round(performance.now() - t0, 1);
  disposables.push(built.model);
  if (built.description) result.description = built.description;
  const feed = inputsOn(context.samples, built.model.backend);
  disposables.push({ dispose: () => tf.dispose(feed) });
  const cold = timeCall(built.model, feed, true);
  result.coldMs = round(cold.ms);
  result.ranOn = cold.ranOn;
  running.push({ variant, model: built.model, feed, timings: [], result });
  return cold.ms;
}

/**
 * Untimed rounds: at most `warmupRounds`, none when the cold calls alone took longer
 * than the budget (a budget of 0 never skips them), and no more once they have taken a
 * quarter of it. Returns how many ran.
 */
function warmUp(key: CellKey, running: readonly Running[], settings: BenchSettings, observer: BenchObserver | undefined): number {
  // Capped (slow) variants sit out the warm-up: their cold calls do not count.
  const coldTotal = running.reduce((sum, r) => sum + (r.cap === undefined ? (r.result.coldMs ?? 0) : 0), 0);
  const warmStart = performance.now();
  let warmup = 0;
  while (
    warmup < settings.warmupRounds &&
    (settings.budgetMs === 0 || coldTotal <= settings.budgetMs) &&
    (warmup === 0 || performance.now() - warmStart < settings.budgetMs / 4)
  ) {
    observer?.phase?.(key, 'warm-up', warmup, settings.warmupRounds);
    playRound(running, warmup, false);
    warmup++;
  }
  return warmup;
}

/**
 * Timed rounds, each call's time kept: at least `minRounds`, then until `budgetMs` is
 * spent, at most `maxRounds`; they stop early once every variant has failed. Returns
 * how many ran.
 */
function timeRounds(key: CellKey, running: readonly Running[], settings: BenchSettings, observer: BenchObserver | undefined): number {
  const timedStart = performance.now();
  let rounds = 0;
  const planned = () =>
    Math.max(
      settings.minRounds,
      Math.min(
        settings.maxRounds,
        rounds ? Math.round((rounds * settings.budgetMs) / Math.max(1, performance.now() - timedStart)) : settings.minRounds,
      ),
    );
  while (rounds < settings.maxRounds && (rounds < settings.minRounds || performance.now() - timedStart < settings.budgetMs)) {
    observer?.phase?.(key, 'timing', rounds, planned());
    playRound(running, rounds, true);
    rounds++;
    if (running.every((r) => r.result.error)) break;
  }
  return rounds;
}

/** Each variant's figures from its timings (outliers beyond `outlierSigma` dropped); GFLOP/s where `flops` is known. */
function recordFigures(running: readonly Running[], outlierSigma: number, flops: number): void {
  for (const r of running) {
    if (r.result.error || r.timings.length === 0) continue;
    const stats = summariseTimings(r.timings, outlierSigma);
    Object.assign(r.result, {
      medianMs: round(stats.medianMs),
      p10Ms: round(stats.p10Ms),
      p90Ms: round(stats.p90Ms),
      meanMs: round(stats.meanMs),
      sdMs: round(stats.sdMs),
      samples: stats.samples,
      outliersDropped: stats.outliersDropped,
      gflops: Number.isFinite(flops) ? round(flops / (stats.medianMs * 1e6), 3) : undefined,
      timingsMs: r.timings.map((t) => round(t)),
    });
  }
}

function stripFigures(r: VariantResult): Partial<VariantResult> {
  return r.description ? { description: r.description } : {};
}

/** One round: every variant once, forwards on even rounds and backwards on odd ones. */
function playRound(running: readonly Running[], index: number, record: boolean): void {
  const order = index % 2 === 0 ? running : [...running].reverse();
  for (const r of order) {
    if (r.result.error) continue;
    // A capped (slow) variant: no warm-up, and timed until it has its rounds.
    if (r.cap !== undefined && (!record || r.timings.length >= r.cap)) continue;
    try {
      const { ms } = timeCall(r.model, r.feed, false);
      if (record) r.timings.push(ms);
    } catch (error) {
      r.result.error = `failed while timed: ${describeError(error)}`;
    }
  }
}

/** median of `reference` / median of each variant (absent where either has no figures). */
function ratiosAgainst(variants: readonly VariantResult[], reference: string): Record<string, number> {
  const base = variants.find((v) => v.name === reference)?.medianMs;
  const out: Record<string, number> = {};
  if (!base) return out;
  for (const v of variants) if (v.medianMs) out[v.name] = round(base / v.medianMs, 3);
  return out;
}

/** One call, outputs read back and disposed, in its own scope. */
function timeCall(model: KilnModel, feed: tf.Tensor | tf.Tensor[], readBackend: boolean): { ms: number; ranOn?: string } {
  let ms = 0;
  let ranOn: string | undefined;
  tf.tidy(() => {
    const t0 = performance.now();
    const outputs = outputsAsArray(model.predict(feed));
    for (const o of outputs) o.dataSync();
    ms = performance.now() - t0;
    if (readBackend) ranOn = backendOfTensor(outputs[0]!);
    tf.dispose(outputs);
  });
  return { ms, ranOn };
}

/** Copies of the inputs whose data lives on `backend` (so timed calls never move them). */
function inputsOn(samples: readonly tf.Tensor[], backend: string): tf.Tensor | tf.Tensor[] {
  const copies = withBackend(tf.findBackend(backend) ? backend : tf.getBackend(), () =>
    samples.map((t) => tf.tensor(t.dataSync() as tf.TypedArray, t.shape, t.dtype)),
  );
  return copies.length === 1 ? copies[0]! : copies;
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
