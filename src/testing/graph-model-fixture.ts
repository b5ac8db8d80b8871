/** `graphModelFixture`: a graph model's model.json on disk as a model the kit checks a plugin on. */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { loadGraphModelFromDisk } from '../io/index.js';
import type { ConformanceModel } from './options.js';

export interface GraphModelFixtureOptions {
  /** Names it in test titles and messages. Default: the file's name without `.json` (its folder's name for `model.json`). */
  readonly name?: string;
  /** One tensor per model input. Default: the kit's (batch 1, seeded normal values; small integers for int32 inputs). */
  readonly sampleInputs?: (model: tf.GraphModel) => tf.Tensor[];
}

/**
 * A `tf.GraphModel` (tfjs-converter output: model.json with `format: "graph-model"` and
 * its weight files) as a model for the conformance kit, loaded afresh from `modelJsonPath`
 * (a model.json file, or its folder) each time the kit builds it.
 *
 * ```ts
 * describePluginConformance(MyPlugin, { models: ['mlp', graphModelFixture('test/fixtures/detector/model.json')] });
 * ```
 */
export function graphModelFixture(modelJsonPath: string, options: GraphModelFixtureOptions = {}): ConformanceModel<tf.GraphModel> {
  const { sampleInputs } = options;
  return {
    name: options.name ?? fixtureName(modelJsonPath),
    build: () => loadGraphModelFromDisk(modelJsonPath),
    ...(sampleInputs ? { sampleInputs: (model: tf.GraphModel) => sampleInputs(model) } : {}),
  };
}

/** `models/liveness.json` -> `liveness`; `detector/model.json` and `detector/` -> `detector`. */
function fixtureName(modelJsonPath: string): string {
  const file = path.basename(modelJsonPath);
  if (!file.endsWith('.json')) return file || modelJsonPath;
  const stem = file.slice(0, -'.json'.length);
  return stem === 'model' ? path.basename(path.dirname(path.resolve(modelJsonPath))) : stem;
}
