import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { KilnConfig } from '../../config/kiln-config.js';
import { loadConfig } from '../../core/config-loading/load-config.js';
import { OptimizationFailedError } from '../../core/errors.js';
import type { OptimizedModel } from '../../core/pipeline/optimized-model.js';
import type { KilnReport } from '../../core/pipeline/report.js';
import { bindInputSamples, inputEntriesFromConfig, sampleInputsFor, type InputSampleEntry } from '../../core/validation/input-samples.js';
import type { StockModel } from '../../core/formats/model-format.js';
import { loadStockModelFromDisk } from '../../io/load-stock-model.js';
import { resolveModelJsonPath, saveArtifactsToDisk } from '../../io/model-files.js';
import { inputEntriesFromFlags, withInputFlags, type InputFlags } from '../input-flags.js';
import { checkOutFolder, checkReportFile } from '../output-paths.js';
import { optimize } from '../../optimize.js';
import { writeHtmlReport } from '../../report/write-report.js';
import { progressDisplay } from '../progress-display.js';
import { renderReport } from '../render-report.js';

/** Flags shared by `optimize` and `demo` that override the config file. */
export interface RunFlags {
  config?: string;
  json?: boolean;
  backend?: string[];
  fallback?: boolean;
  iterations?: number;
  /** `--batch`: one batch size, or several (smallest first) for a shape profile. */
  batch: number[];
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1.');
  return n;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `--batch 1,16,32`: whole numbers >= 1, smallest first, each once. */
export function batchSizes(value: string): number[] {
  const sizes = list(value).map((v) => {
    try {
      return positiveInt(v);
    } catch {
      throw new InvalidArgumentError(`"${v}" is not a batch size: expected whole numbers >= 1, comma separated (e.g. 1,16,32).`);
    }
  });
  if (sizes.length === 0) throw new InvalidArgumentError('expected a batch size, or several comma separated (e.g. 1,16,32).');
  if (sizes.some((n, i) => i > 0 && n <= sizes[i - 1]!))
    throw new InvalidArgumentError(
      `batch sizes go smallest first, each once (got ${sizes.join(',')}); e.g. ${[...new Set(sizes)].sort((a, b) => a - b).join(',')}.`,
    );
  return sizes;
}

/** Adds the flags of a pipeline run to a command. */
export function withRunFlags(command: Command): Command {
  return command
    .option('-c, --config <file>', 'kiln.yaml to use (defaults apply otherwise)')
    .option('--json', 'print one JSON document (the report) instead of the table')
    .option('--backend <list>', 'backend preference, comma separated (overrides backend.preference)', list)
    .option('--no-fallback', 'stop at the first rejected or failed candidate (exit code 1)')
    .option('--iterations <n>', 'timed runs per comparison (overrides benchmark.iterations)', positiveInt)
    .addOption(
      new Option(
        '--batch <sizes>',
        "batch size of the generated sample inputs (those given no shape or file); several, smallest first (1,16,32), optimise for each and dispatch on the batch of each call (overrides the config's shapes)",
      )
        .argParser(batchSizes)
        .default([1], '1'),
    );
}

/** What the command line gives for the sample inputs: the input flags' entries, and `--batch` when it was typed. */
export interface SampleFlags {
  readonly entries: readonly InputSampleEntry[];
  /** `--batch N` as typed; absent where --batch is at its default. */
  readonly batchFrom?: string;
}

/** The sample-input part of the command line (the .npy files read). */
export async function sampleFlagsOf(flags: RunFlags & InputFlags, command: Command): Promise<SampleFlags> {
  const typed = command.getOptionValueSource('batch') === 'cli';
  return { entries: await inputEntriesFromFlags(flags), ...(typed ? { batchFrom: `--batch ${flags.batch.join(',')}` } : {}) };
}

/** Config overrides from the flags: only what the user actually passed (`batchTyped`: --batch was typed). */
export function overridesFrom(flags: RunFlags, batchTyped = false): object {
  const overrides: Record<string, unknown> = {};
  if (flags.backend) overrides.backend = { preference: flags.backend };
  if (flags.fallback === false) overrides.fallback = false;
  if (flags.iterations) overrides.benchmark = { iterations: flags.iterations };
  // several sizes make a profile; one typed size replaces the config's profile by that size
  if (flags.batch.length > 1 || batchTyped) overrides.shapes = flags.batch;
  return overrides;
}

/** The run's config: the file (if any) with the flags over it. Loaded before any model, so config errors come first. */
export function loadRunConfig(flags: RunFlags, command?: Command): Promise<KilnConfig> {
  const batchTyped = command?.getOptionValueSource('batch') === 'cli';
  return loadConfig(flags.config ? resolve(flags.config) : undefined, { overrides: overridesFrom(flags, batchTyped) });
}

/**
 * Runs the pipeline on a model and prints the report (also the partial report of a
 * run stopped under `fallback: false`, with --json); shared by `optimize` and `demo`.
 */
export async function runAndPrint(
  stock: StockModel,
  config: KilnConfig,
  flags: RunFlags,
  given: SampleFlags = { entries: [] },
): Promise<{ report: KilnReport; optimized: OptimizedModel }> {
  const { model } = stock;
  const specs = stock.format.wrap(model, tf.getBackend(), false).inputs;
  const inputs = bindInputSamples(specs, [inputEntriesFromConfig(config.inputs), given.entries]);
  // The config's inputs, then the flags over them; seeded by validation.seed. One --batch size
  // sizes the inputs given no shape (and must agree with those given one); a profile's sizes
  // (several --batch sizes, or the config's shapes) set every input's batch axis.
  const single = flags.batch.length === 1 && (config.shapes === undefined || given.batchFrom !== undefined);
  const samplesAt = (batch: number | undefined) =>
    single || batch === undefined
      ? sampleInputsFor(specs, {
          seed: config.validation.seed,
          batch: batch ?? flags.batch[0],
          ...(given.batchFrom ? { batchFrom: given.batchFrom } : {}),
          inputs,
        })
      : sampleInputsFor(specs, { seed: config.validation.seed, batch, everyInputAtBatch: true, inputs });
  // Made first, so that what does not fit the model is an error before any work.
  tf.dispose(samplesAt(config.shapes?.[0]));
  const progress = progressDisplay();
  try {
    const { model: optimized, report } = await optimize(model, { samplesAt, config, observer: progress });
    progress.stop();
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
    return { report, optimized };
  } catch (error) {
    progress.stop();
    if (error instanceof OptimizationFailedError) {
      process.stdout.write(flags.json ? `${JSON.stringify(error.report, null, 2)}\n` : `${renderReport(error.report)}\n`);
    }
    throw error;
  }
}

export function optimizeCommand(): Command {
  return withInputFlags(
    withRunFlags(
      new Command('optimize')
        .description(
          'optimise a model saved on disk (model.json and its weight shards; a tf.LayersModel or a tf.GraphModel with the built-in formats)',
        )
        .argument('<model>', 'path of model.json, or of the folder that holds it')
        .option('-o, --out <dir>', 'write the optimised model and kiln-report.json into this folder (atomically)')
        .option('--report <file>', 'write a self-contained HTML report (decision timeline, speedups, latencies, weight precisions)'),
    ),
    'Its batch axis is the batch of the run (--batch, when given, must agree).',
  ).action(async (modelPath: string, flags: RunFlags & InputFlags & { out?: string; report?: string }, command: Command) => {
    const config = await loadRunConfig(flags, command);
    // Every output path is checked before any model work starts.
    const modelJson = await resolveModelJsonPath(modelPath);
    if (flags.out) await checkOutFolder(flags.out, modelJson);
    if (flags.report) await checkReportFile(flags.report);
    const given = await sampleFlagsOf(flags, command);
    const stock = await loadStockModelFromDisk(modelJson);
    try {
      const { report, optimized } = await runAndPrint(stock, config, flags, given).catch(async (error: unknown) => {
        if (flags.report && error instanceof OptimizationFailedError) await writeHtmlReportTo(flags.report, error.report, modelPath);
        throw error;
      });
      try {
        if (flags.report) await writeHtmlReportTo(flags.report, report, modelPath);
        if (flags.out) await writeOutputs(resolve(flags.out), optimized, stock, report);
      } finally {
        optimized.dispose();
      }
    } finally {
      stock.format.dispose(stock.model);
    }
  });
}

/** Writes the HTML report of a run (also of one stopped under fallback: false), atomically. */
async function writeHtmlReportTo(file: string, report: KilnReport, model: string): Promise<void> {
  await writeHtmlReport(resolve(file), { kind: 'optimize', report, model });
  process.stderr.write(`wrote report ${resolve(file)}\n`);
}

/**
 * Writes the stock model the optimised model runs (the user's own when no plugin
 * rewrote it: backend choice and compilation happen at load time, not in the files),
 * in its own format, and the report beside it: one group, swapped in as a whole folder.
 */
async function writeOutputs(out: string, optimized: OptimizedModel, original: StockModel, report: KilnReport): Promise<void> {
  const stock = optimized.stock ?? original;
  // A plugin that changed how weights are stored (mixed precision) kept the exact files it validated.
  const artifacts = optimized.artifacts ?? (await stock.format.save(stock.model));
  // One group: the model and its report land together (the whole folder is swapped in), or not at all.
  // Where onnxruntime won, the ONNX file its validated session ran goes beside the tfjs files.
  const onnx = optimized.onnx ? [{ name: 'model.onnx', data: optimized.onnx }] : [];
  await saveArtifactsToDisk(artifacts, out, {
    extraFiles: [...onnx, { name: 'kiln-report.json', data: `${JSON.stringify(report, null, 2)}\n` }],
    // an earlier run's model.onnx would no longer be the model this folder holds
    notCarried: onnx.length ? [] : ['model.onnx'],
  });
  const what = optimized.artifacts
    ? 'the optimised layers, weights stored as the report says'
    : stock.model === original.model
      ? 'the original layers (no plugin rewrote them; the runtime choices are in the report)'
      : 'the optimised layers';
  const onnxNote = onnx.length ? `, ${join(out, 'model.onnx')} (the ONNX file onnxruntime ran, ${optimized.onnx!.byteLength} bytes)` : '';
  process.stderr.write(`wrote ${join(out, 'model.json')} (${what})${onnxNote} and ${join(out, 'kiln-report.json')}\n`);
}
