import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { syntheticSampleInputs } from '../../core/validation/validation-inputs.js';
import type { KilnReport } from '../../core/pipeline/report.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadModelFromDisk, saveModelToDisk } from '../../io/model-files.js';
import { optimize } from '../../optimize.js';
import { progressDisplay } from '../progress-display.js';
import { renderReport } from '../render-report.js';

/** Flags shared by `optimize` and `demo` that override the config file. */
export interface RunFlags {
  config?: string;
  json?: boolean;
  backend?: string[];
  fallback?: boolean;
  iterations?: number;
  batch: number;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1.');
  return n;
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Adds the flags of a pipeline run to a command. */
export function withRunFlags(command: Command): Command {
  return command
    .option('-c, --config <file>', 'kiln.yaml to use (defaults apply otherwise)')
    .option('--json', 'print one JSON document (the report) instead of the table')
    .option('--backend <list>', 'backend preference, comma separated (overrides backend.preference)', list)
    .option('--no-fallback', 'stop at the first rejected or failed candidate (exit code 1)')
    .option('--iterations <n>', 'timed runs per comparison (overrides benchmark.iterations)', positiveInt)
    .option('--batch <n>', 'batch size of the synthetic sample inputs', positiveInt, 1);
}

/** Config overrides from the flags: only what the user actually passed. */
export function overridesFrom(flags: RunFlags): object {
  const overrides: Record<string, unknown> = {};
  if (flags.backend) overrides.backend = { preference: flags.backend };
  if (flags.fallback === false) overrides.fallback = false;
  if (flags.iterations) overrides.benchmark = { iterations: flags.iterations };
  return overrides;
}

/** Runs the pipeline on a model and prints the report; shared by `optimize` and `demo`. */
export async function runAndPrint(model: tf.LayersModel, flags: RunFlags): Promise<{ report: KilnReport; optimized: Awaited<ReturnType<typeof optimize>>['model'] }> {
  const config = await loadConfig(flags.config ? resolve(flags.config) : undefined, { overrides: overridesFrom(flags) });
  const samples = syntheticSampleInputs(model.inputs.map((t, i) => ({ name: model.inputNames[i] ?? t.name, shape: t.shape, dtype: t.dtype })), config.validation.seed, flags.batch);
  const progress = progressDisplay();
  try {
    const { model: optimized, report } = await optimize(model, { sampleInputs: samples, config, observer: progress });
    progress.stop();
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
    return { report, optimized };
  } finally {
    progress.stop();
    tf.dispose(samples);
  }
}

export function optimizeCommand(): Command {
  return withRunFlags(
    new Command('optimize')
      .description('optimise a LayersModel saved on disk (model.json and its weight shards)')
      .argument('<model>', 'path of model.json, or of the folder that holds it')
      .option('-o, --out <dir>', 'write the optimised model and kiln-report.json into this folder (atomically)'),
  ).action(async (modelPath: string, flags: RunFlags & { out?: string }) => {
    const model = await loadModelFromDisk(modelPath);
    try {
      const { report, optimized } = await runAndPrint(model, flags);
      try {
        if (flags.out) {
          const out = resolve(flags.out);
          await saveModelToDisk(optimized.layersModel ?? model, out);
          await writeFileAtomic(join(out, 'kiln-report.json'), `${JSON.stringify(report, null, 2)}\n`);
          process.stderr.write(`wrote ${join(out, 'model.json')} and ${join(out, 'kiln-report.json')}\n`);
        }
      } finally {
        optimized.dispose();
      }
    } finally {
      model.dispose();
    }
  });
}
