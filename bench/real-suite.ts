/**
 * The `real` suite of `npm run bench`: the real published models of bench/real-models.ts
 * (graph models and layers models, at their natural input sizes and value ranges) at
 * batch 1, each timed on wasm as
 *
 * - `plain-tfjs`: its own predict (GraphModel.execute, LayersModel.predict) on cpu, plain
 *   tf.js's default in Node: about 20x slower, so timed in a few rounds only;
 * - `plain-wasm` / `predict`: its own predict on wasm, the best stock option in Node
 *   without tfjs-node (the headline reference; the same figures in a wasm cell);
 * - `kiln`: the model `optimize()` returns with Kiln's defaults: its backend preference
 *   (onnxruntime first where onnxruntime-node loads, then wasm-threads, wasm, cpu here),
 *   pipeline and tolerances; only the benchmark and
 *   validation are the bench's shorter ones (BENCH_OPTIMIZE_DEFAULTS, as `kiln bench`).
 *
 * It runs through the same engine as `kiln bench` (src/bench/), with sources built here:
 * src/ never imports bench/.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import {
  benchOptimizeConfig,
  benchProgress,
  checkDistinctNames,
  DEFAULT_BENCH_SETTINGS,
  KILN,
  KILN_VARIANT,
  pickVariants,
  PLAIN_TFJS,
  PLAIN_WASM,
  planBackends,
  PREDICT,
  renderBench,
  runBench,
  type BenchResult,
  type BenchSettings,
  type BenchSource,
  type BenchVariant,
} from '../src/bench/index.js';
import type { KilnConfig } from '../src/config/kiln-config.js';
import { ConfigError } from '../src/core/errors.js';
import { loadStockModelFromDisk } from '../src/io/load-stock-model.js';
import { writeHtmlReport } from '../src/report/write-report.js';
import { REAL_MODELS, realModel, realModelInputs, type RealModel } from './real-models.js';

/** The variants of the real suite, in table order: the two stock references, predict on the cell's backend, and Kiln. */
export const REAL_SUITE_VARIANTS: readonly string[] = [PLAIN_TFJS, PLAIN_WASM, PREDICT, KILN];

/** The backends the real suite runs cells on by default: wasm only (cpu is about 20x slower; plain-tfjs already times it). */
export const REAL_SUITE_BACKENDS: readonly string[] = ['wasm'];

/**
 * Kiln as a user runs it: optimize() with Kiln's own backend preference (not the cell's
 * backend first, as in `kiln bench`), so the headline is what `optimize(model)` gives.
 */
export const REAL_SUITE_KILN_VARIANT: BenchVariant = {
  ...KILN_VARIANT,
  description:
    "Kiln's optimised model: optimize() with Kiln's default backend preference, pipeline and tolerances (the bench's shorter benchmark and one validation sample), run once per model on batch-1 samples",
};

/** The engine's defaults, but a slow variant (plain tf.js on cpu) timed in 3 rounds only. */
export const REAL_SUITE_SETTINGS: BenchSettings = { ...DEFAULT_BENCH_SETTINGS, slowVariantRounds: 3 };

/**
 * A real model as a bench source: loaded from its package's files by the format its
 * model.json names (its custom layers registered first, as its package does), fed
 * seeded inputs over its natural value range.
 */
export function realModelSource(model: RealModel): BenchSource {
  model.setup?.();
  return {
    name: model.name,
    description: `${model.description}; ${model.packageName}, input ${model.inputDtype} [${model.inputShape.join(', ')}] in ${model.inputRange[0]}..${model.inputRange[1]}`,
    build: () => loadStockModelFromDisk(model.modelJson),
    sampleInputs: (_model, batch, seed) => realModelInputs(model, seed, batch),
  };
}

export interface RealSuiteOptions {
  /** Names of REAL_MODELS (all when absent). */
  readonly models?: readonly string[];
  /** Kiln's backend names for the cells (REAL_SUITE_BACKENDS when absent). */
  readonly backends?: readonly string[];
  /** Variant names (REAL_SUITE_VARIANTS when absent; `all`: every built-in variant). */
  readonly variants?: readonly string[];
  /** kiln.yaml for the kiln variant's optimize() run. */
  readonly config?: string;
  readonly settings?: Partial<BenchSettings>;
  readonly json?: boolean;
  readonly report?: string;
  readonly detail?: boolean;
  readonly quiet?: boolean;
  /** Where the tables go (stdout by default). */
  readonly out?: NodeJS.WritableStream;
}

/** Runs the real suite and prints it (the tables and Markdown, or --json); returns the result. */
export async function runRealSuite(options: RealSuiteOptions = {}): Promise<BenchResult> {
  const out = options.out ?? process.stdout;
  const configPath = options.config ? resolve(options.config) : undefined;
  const baseConfig = await benchOptimizeConfig(configPath);
  const variants = realSuiteVariants(options.variants);
  const sources = (options.models?.length ? options.models.map(realModelOrUsage) : REAL_MODELS).map(realModelSource);
  checkDistinctNames(sources);
  const plan = await planBackends(baseConfig, options.backends?.length ? options.backends : REAL_SUITE_BACKENDS);
  // Kiln's own preference on every cell: the config is the same for all.
  const optimizeConfig = (): Promise<KilnConfig> => Promise.resolve(baseConfig);
  const progress = benchProgress(process.stderr, { quiet: options.quiet });
  let result: BenchResult;
  try {
    result = await runBench({
      sources,
      backends: plan.backends,
      bestBackend: plan.best,
      unavailableBackends: plan.unavailable,
      batches: [1],
      variants,
      settings: { ...REAL_SUITE_SETTINGS, ...options.settings },
      optimizeConfig,
      observer: progress,
    });
  } finally {
    progress.stop();
    await tf.setBackend('cpu');
  }
  out.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderBench(result, { markdown: true, detail: options.detail })}\n`);
  if (options.report) {
    const file = resolve(options.report);
    await writeHtmlReport(file, { kind: 'bench', bench: result });
    process.stderr.write(`wrote report ${file}\n`);
  }
  return result;
}

function realSuiteVariants(names: readonly string[] | undefined): BenchVariant[] {
  const picked = names?.includes('all') ? pickVariants(undefined) : pickVariants(names?.length ? names : REAL_SUITE_VARIANTS);
  return picked.map((v) => (v.name === KILN ? REAL_SUITE_KILN_VARIANT : v));
}

function realModelOrUsage(name: string): RealModel {
  try {
    return realModel(name);
  } catch (error) {
    throw new ConfigError(`--models: ${(error as Error).message}`);
  }
}

const list = (value: string | undefined) =>
  value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function count(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${flag} expects a whole number >= ${min}, got "${value}"`);
  return n;
}

/**
 * The flags of `npm run bench -- real`: --models a,b, --backend wasm,cpu, --variants
 * (names, or `all`), --config kiln.yaml, --rounds N, --budget-ms N, --slow-variant-rounds N,
 * --json, --report FILE, --no-detail, --quiet. Anything else is a usage error.
 */
export function parseRealSuiteArgs(argv: readonly string[]): RealSuiteOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new ConfigError(`npm run bench -- real: ${(error as Error).message}`);
  }
  const v = parsed.values;
  const rounds = count('--rounds', v.rounds, 1);
  const budgetMs = count('--budget-ms', v['budget-ms'], 1);
  const slowVariantRounds = count('--slow-variant-rounds', v['slow-variant-rounds'], 0);
  const settings: Partial<BenchSettings> = {
    ...(rounds !== undefined ? { minRounds: rounds, maxRounds: rounds, budgetMs: 0 } : {}),
    ...(budgetMs !== undefined && rounds === undefined ? { budgetMs } : {}),
    ...(slowVariantRounds !== undefined ? { slowVariantRounds } : {}),
  };
  return {
    models: list(v.models),
    backends: list(v.backend),
    variants: list(v.variants),
    config: v.config,
    settings,
    json: v.json,
    report: v.report,
    detail: !v['no-detail'],
    quiet: v.quiet,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      models: { type: 'string' },
      backend: { type: 'string' },
      variants: { type: 'string' },
      config: { type: 'string', short: 'c' },
      rounds: { type: 'string' },
      'budget-ms': { type: 'string' },
      'slow-variant-rounds': { type: 'string' },
      json: { type: 'boolean' },
      report: { type: 'string' },
      'no-detail': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
}
