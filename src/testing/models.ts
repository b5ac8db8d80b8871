/** The models a plugin is checked on: zoo models by name, or the caller's own, built with their sample inputs. */
import * as tf from '@tensorflow/tfjs';
import { ZOO, zooSampleInputs, type ZooName } from '../zoo/index.js';
import type { ConformanceModel, ConformanceOptions } from './options.js';

export function modelName(model: ZooName | ConformanceModel): string {
  return typeof model === 'string' ? model : model.name;
}

/** Builds the model (a zoo model scaled down unless `small: false`) and its sample inputs, seeded by `options.seed`. */
export async function buildModel(
  model: ZooName | ConformanceModel,
  options: ConformanceOptions,
): Promise<{ layers: tf.LayersModel; samples: tf.Tensor[] }> {
  const seed = options.seed ?? 0;
  if (typeof model === 'string') {
    const entry = ZOO[model];
    if (!entry) throw new Error(`no zoo model "${model}"; the zoo has ${Object.keys(ZOO).join(', ')}`);
    const layers = entry.build({ small: options.small ?? true, seed: seed + 1 });
    return { layers, samples: zooSampleInputs(entry, 1, seed) };
  }
  const layers = await model.build();
  const samples = model.sampleInputs
    ? model.sampleInputs(layers)
    : layers.inputs.map((input, i) =>
        tf.randomNormal(
          input.shape.map((d) => d ?? 1),
          0,
          1,
          'float32',
          seed + i + 1,
        ),
      );
  return { layers, samples };
}
