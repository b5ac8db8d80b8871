import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command, Option } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { bindInputSamples, describeShape, sampleInputsFor } from '../../core/validation/input-samples.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadStockModelFromDisk } from '../../io/load-stock-model.js';
import { resolveModelJsonPath } from '../../io/model-files.js';
import { describeOnnxSize, lowerModel, ONNX_OPSET } from '../../lowering/index.js';
import { inputEntriesFromFlags, withInputFlags, type InputFlags } from '../input-flags.js';
import { positiveInt } from './optimize-command.js';

/** The formats `kiln export` writes. */
export const EXPORT_FORMATS = ['onnx'] as const;

interface ExportFlags extends InputFlags {
  format: (typeof EXPORT_FORMATS)[number];
  out: string;
  batch: number;
}

/**
 * `kiln export <model> --format onnx --out model.onnx`: traces one call of the model on
 * cpu at the sample inputs' shapes (--batch, --input-shape, --sample-input as the other
 * commands take them), lowers the kernel graph to ONNX and writes the file atomically.
 * The ONNX graph has those static shapes, batch included.
 */
export function exportCommand(): Command {
  return withInputFlags(
    new Command('export')
      .description(
        'write a model saved on disk (a tf.LayersModel or tf.GraphModel model.json) as an ONNX file that onnxruntime runs, traced at one input shape',
      )
      .argument('<model>', 'path of model.json, or of the folder that holds it')
      .addOption(new Option('--format <format>', 'file format to write').choices([...EXPORT_FORMATS]).makeOptionMandatory())
      .requiredOption('-o, --out <file>', 'the file to write (atomically), e.g. model.onnx')
      .option('--batch <n>', 'batch size of the traced call (the ONNX graph is fixed to it)', positiveInt, 1),
    'Its batch axis is the batch of the export (--batch, when given, must agree).',
  ).action(async (modelPath: string, flags: ExportFlags, command: Command) => {
    const out = resolve(flags.out);
    if ((await fs.stat(out).catch(() => undefined))?.isDirectory())
      throw new ConfigError(`--out ${out} is a folder. Pass the path of the .onnx file to write.`);
    const modelJson = await resolveModelJsonPath(modelPath);
    const entries = await inputEntriesFromFlags(flags);
    const batchFrom = command.getOptionValueSource('batch') === 'cli' ? `--batch ${flags.batch}` : undefined;
    const stock = await loadStockModelFromDisk(modelJson);
    try {
      const model = stock.format.wrap(stock.model, 'cpu', false);
      const inputs = sampleInputsFor(model.inputs, {
        seed: 0,
        batch: flags.batch,
        ...(batchFrom ? { batchFrom } : {}),
        inputs: bindInputSamples(model.inputs, [entries]),
      });
      try {
        const lowered = lowerModel(model, inputs);
        await writeFileAtomic(out, lowered.bytes);
        const io = (names: readonly string[], shapes: readonly (readonly number[])[]) =>
          names.map((n, i) => `${n} ${describeShape(shapes[i]!)}`).join(', ');
        process.stderr.write(
          `wrote ${out} (${describeOnnxSize(lowered.bytes.length, lowered.weights)}; ONNX opset ${ONNX_OPSET}, ${lowered.nodes} nodes, ${lowered.layoutTransposes} layout transposes; inputs ${io(lowered.inputNames, lowered.inputShapes)}; outputs ${lowered.outputNames.join(', ')})\n`,
        );
      } finally {
        tf.dispose(inputs);
      }
    } finally {
      stock.format.dispose(stock.model);
    }
  });
}
