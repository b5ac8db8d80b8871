import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BenchRegressionError, baselineFrom, compareToBaseline, readBaseline, writeBaseline } from '../../bench/baseline.js';
import { DEFAULT_BENCH_SETTINGS, runBench } from '../../bench/engine.js';
import { renderBench } from '../../bench/format.js';
import { benchProgress } from '../../bench/progress-bar.js';
import { benchOptimizeConfig, fallbackChain, pickVariants, planBackends } from '../../bench/setup.js';
import { checkSourceInputs, resolveSources } from '../../bench/sources.js';
import type { BenchResult, BenchSettings } from '../../bench/types.js';
import type { BenchBackend } from '../../bench/variants.js';
import type { KilnConfig } from '../../config/kiln-config.js';
import { inputEntriesFromConfig } from '../../core/validation/input-samples.js';
import { inputEntriesFromFlags, withInputFlags, type InputFlags } from '../input-flags.js';
import { writeHtmlReport } from '../../report/write-report.js';

export interface BenchFlags extends InputFlags {
  config?: string;
  json?: boolean;
  backend?: string[];
  batch: number[];
  variants?: string[];
  baseline?: string;
  maxRegression: number;
  updateBaseline?: string;
  report?: string;
  budgetMs: number;
  minRounds: number;
  maxRounds: number;
  warmup: number;
  rounds?: number;
  seed: number;
  slowCallMs: number;
  slowVariantRounds: number;
  small?: boolean;
  markdown?: boolean;
  detail: boolean;
  quiet?: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1.');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0.');
  return n;
}

function percent(value: string): number {
  const n = Number(value.replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n >= 100) throw new InvalidArgumentError('expected a percentage from 0 to below 100.');
  return n;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function batches(value: string): number[] {
  return list(value).map((v) => positiveInt(v));
}

/**
 * `kiln bench`: times a model of any format (a tf.LayersModel or tf.GraphModel
 * model.json, or the zoo) as plain tf.js on cpu and on wasm, predict on each backend,
 * Kiln's compiled and fused forms and Kiln's optimised model, interleaved in one
 * process; prints per-variant figures and ratios; checks ratios against a baseline.
 */
export function benchCommand(): Command {
  const command = new Command('bench')
    .description('benchmark a model against plain tf.js and its backends, interleaved in one process; compare the ratios with a baseline')
    .argument('<models...>', 'model.json (or its folder) of a tf.LayersModel or tf.GraphModel, zoo:NAME, or "zoo" for every zoo model')
    .option(
      '-c, --config <file>',
      "kiln.yaml for the kiln variant's optimize() run (backend.preference is set per cell: its backend, then Kiln's fallbacks)",
    )
    .option('--json', 'print one JSON document (every figure, timing and ratio) instead of the tables')
    .option('--backend <list>', 'backends to run cells on, comma separated (default: every one that runs here)', list)
    .addOption(new Option('--batch <list>', 'batch sizes, comma separated').argParser(batches).default([1, 32], '1,32'))
    .option('--variants <list>', 'variants to measure, comma separated (predict is always measured)', list)
    .option('--baseline <file>', 'compare each kiln/predict ratio with this baseline; exit 1 when one fell by more than --max-regression')
    .option('--max-regression <pct>', 'largest allowed fall of a ratio, in percent', percent, 10)
    .option('--update-baseline <file>', "write this run's ratios as the baseline (atomically)")
    .option('--report <file>', 'write a self-contained HTML report')
    .option('--budget-ms <n>', 'time per cell: timed rounds go on until it is spent', positiveInt, DEFAULT_BENCH_SETTINGS.budgetMs)
    .option('--min-rounds <n>', 'timed rounds per cell at least', positiveInt, DEFAULT_BENCH_SETTINGS.minRounds)
    .option('--max-rounds <n>', 'timed rounds per cell at most', positiveInt, DEFAULT_BENCH_SETTINGS.maxRounds)
    .option('--rounds <n>', 'exactly this many timed rounds per cell (sets --min-rounds and --max-rounds)', positiveInt)
    .option(
      '--warmup <n>',
      'warm-up rounds per cell (fewer when they take over a quarter of the budget)',
      nonNegativeInt,
      DEFAULT_BENCH_SETTINGS.warmupRounds,
    )
    .option('--seed <n>', 'seed of the sample inputs', nonNegativeInt, DEFAULT_BENCH_SETTINGS.seed)
    .option(
      '--slow-call-ms <n>',
      'leave the optional variants (compiled, layers-fused, fused) out of cells where a call of predict takes longer; 0 keeps them',
      nonNegativeInt,
      DEFAULT_BENCH_SETTINGS.slowCallMs,
    )
    .option(
      '--slow-variant-rounds <n>',
      'where predict is fast, time a variant whose call takes longer than --slow-call-ms (plain tf.js on cpu) in this many rounds only; 0: no cap',
      nonNegativeInt,
      DEFAULT_BENCH_SETTINGS.slowVariantRounds,
    )
    .option('--small', 'zoo models at their scaled-down size (quick checks)')
    .option('--markdown', 'also print the summary as a Markdown table')
    .option('--no-detail', 'leave out the per-variant table')
    .option('-q, --quiet', 'no progress lines on stderr');
  return withInputFlags(command, "In each cell its batch axis is the cell's --batch size (a file's rows repeat to fill it).").action(
    async (targets: string[], flags: BenchFlags) => {
      const result = await runBenchCommand(targets, flags);
      if (result.baseline && result.baseline.regressions > 0) throw new BenchRegressionError(result.baseline);
    },
  );
}

/** Runs `kiln bench` and prints/writes its outputs; returns the result (the caller decides the exit code). */
export async function runBenchCommand(targets: string[], flags: BenchFlags): Promise<BenchResult> {
  // Usage and configuration errors first, before anything is measured.
  const configPath = flags.config ? resolve(flags.config) : undefined;
  const baseConfig = await benchOptimizeConfig(configPath);
  const variants = pickVariants(flags.variants);
  // The sample inputs of model files: the config's inputs:, then the flags over them.
  const inputs = [inputEntriesFromConfig(baseConfig.inputs), await inputEntriesFromFlags(flags)];
  const sources = await resolveSources(targets, { small: flags.small, inputs });
  await checkSourceInputs(sources, inputs);
  const baseline = flags.baseline ? await readBaseline(resolve(flags.baseline)) : undefined;
  const plan = await planBackends(baseConfig, flags.backend);
  const settings: BenchSettings = {
    ...DEFAULT_BENCH_SETTINGS,
    budgetMs: flags.rounds ? 0 : flags.budgetMs,
    minRounds: flags.rounds ?? Math.min(flags.minRounds, flags.maxRounds),
    maxRounds: flags.rounds ?? flags.maxRounds,
    warmupRounds: flags.warmup,
    seed: flags.seed,
    slowCallMs: flags.slowCallMs,
    slowVariantRounds: flags.slowVariantRounds,
  };
  const configs = new Map<string, Promise<KilnConfig>>();
  const optimizeConfig = (b: BenchBackend) => {
    if (!configs.has(b.name)) configs.set(b.name, benchOptimizeConfig(configPath, fallbackChain(b, plan.available)));
    return configs.get(b.name)!;
  };

  const progress = benchProgress(process.stderr, { quiet: flags.quiet });
  let result: BenchResult;
  try {
    result = await runBench({
      sources,
      backends: plan.backends,
      bestBackend: plan.best,
      unavailableBackends: plan.unavailable,
      batches: flags.batch,
      variants,
      settings,
      optimizeConfig,
      observer: progress,
    });
  } finally {
    progress.stop();
    await tf.setBackend('cpu');
  }
  if (baseline) result = { ...result, baseline: compareToBaseline(result, baseline, flags.maxRegression, resolve(flags.baseline!)) };

  process.stdout.write(
    flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderBench(result, { markdown: flags.markdown, detail: flags.detail })}\n`,
  );
  if (flags.updateBaseline) {
    const file = resolve(flags.updateBaseline);
    const written = baselineFrom(result);
    await writeBaseline(file, written);
    process.stderr.write(`wrote baseline ${file} (${written.entries.length} ${written.variant}/${written.reference} ratio(s))\n`);
  }
  if (flags.report) {
    const file = resolve(flags.report);
    await writeHtmlReport(file, { kind: 'bench', bench: result });
    process.stderr.write(`wrote report ${file}\n`);
  }
  return result;
}
