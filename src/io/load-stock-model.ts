import * as path from 'node:path';
import * as tfjs from '@tensorflow/tfjs';
import type * as tf from '@tensorflow/tfjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { describeError, ModelFileError } from '../core/errors.js';
import { FormatRegistry } from '../core/formats/format-registry.js';
import type { StockModel } from '../core/formats/model-format.js';
import { diskModelIO, resolveModelJsonPath } from './model-files.js';

/**
 * Loads a model of any registered format from a model.json file or its folder: reads
 * the files (confined to the folder, size-checked), picks the format that recognises
 * the model.json, and builds the model with it.
 *
 * @throws ModelFileError for unreadable, unsafe or inconsistent files, for a model.json
 *   no registered format recognises (naming its `format` field and the formats Kiln
 *   takes), and for models the format cannot build.
 */
export async function loadStockModelFromDisk(modelPath: string, options: { container?: DependencyContainer } = {}): Promise<StockModel> {
  const jsonPath = await resolveModelJsonPath(modelPath);
  const artifacts = await diskModelIO(jsonPath).load!();
  const formats = new FormatRegistry(options.container ?? rootContainer);
  const format = formats.formatOfModelJson(artifacts as Readonly<Record<string, unknown>>);
  if (!format) {
    throw new ModelFileError(`${jsonPath} is ${describeFormatField(artifacts)}, which Kiln cannot load: it takes ${formats.known()}.`);
  }
  if (artifacts.weightSpecs === undefined) {
    throw new ModelFileError(
      `${jsonPath} has no weightsManifest, so the model's weights are missing (tf.js would build it with fresh random weights): re-export the model with its weights.`,
    );
  }
  try {
    return { format, model: await format.load(artifacts) };
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    throw new ModelFileError(
      `Cannot build a ${format.displayName} from ${path.resolve(modelPath)}: check it is a TensorFlow.js ${format.name.replace('-', ' ')} (${describeError(error)}).`,
      { cause: error },
    );
  }
}

function describeFormatField(artifacts: tf.io.ModelArtifacts): string {
  if (typeof artifacts.format === 'string') return `a model of format "${artifacts.format}"`;
  return artifacts.modelTopology === undefined
    ? 'a model.json without a modelTopology'
    : 'a model.json of no format Kiln knows (no "format" field, and its modelTopology is not a Keras model config)';
}

/**
 * Loads a `tf.LayersModel` or a `tf.GraphModel` from a model.json file or its folder
 * (the format read from model.json), without tfjs-node. For a format a plugin
 * registered, use {@link loadStockModelFromDisk}, which also returns the adapter.
 *
 * @throws ModelFileError as {@link loadStockModelFromDisk} does.
 */
export async function loadModelFromDisk(
  modelPath: string,
  options: { container?: DependencyContainer } = {},
): Promise<tf.LayersModel | tf.GraphModel> {
  const { format, model } = await loadStockModelFromDisk(modelPath, options);
  if (model instanceof tfjs.LayersModel || model instanceof tfjs.GraphModel) return model;
  format.dispose(model);
  throw new ModelFileError(
    `${path.resolve(modelPath)} is a ${format.displayName} (format "${format.name}"), which is neither a tf.LayersModel nor a tf.GraphModel: load it with loadStockModelFromDisk.`,
  );
}
