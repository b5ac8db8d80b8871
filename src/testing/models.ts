/**
 * The models a plugin is checked on: zoo models by name, or the caller's own (of any
 * registered format), built with their sample inputs and the format that owns them.
 */
import * as tf from '@tensorflow/tfjs';
import type { FormatRegistry } from '../core/formats/format-registry.js';
import type { StockModel } from '../core/formats/model-format.js';
import type { TensorSpec } from '../core/kiln-model.js';
import { ZOO, zooSampleInputs, type ZooName } from '../zoo/index.js';
import type { ConformanceModel, ConformanceOptions } from './options.js';

export function modelName(model: ZooName | ConformanceModel): string {
  return typeof model === 'string' ? model : model.name;
}

/**
 * Builds the model (a zoo model scaled down unless `small: false`) and finds the format
 * that owns it (a model no registered format owns is an InputError naming the formats).
 */
export async function buildStockModel(
  model: ZooName | ConformanceModel,
  options: ConformanceOptions,
  formats: FormatRegistry,
): Promise<StockModel> {
  if (typeof model === 'string') {
    const entry = ZOO[model];
    if (!entry) throw new Error(`no zoo model "${model}"; the zoo has ${Object.keys(ZOO).join(', ')}`);
    return formats.stockModelOf(entry.build({ small: options.small ?? true, seed: (options.seed ?? 0) + 1 }));
  }
  const built = await model.build();
  try {
    return formats.stockModelOf(built);
  } catch (error) {
    const disposable = built as { dispose?: unknown } | null | undefined;
    if (typeof disposable?.dispose === 'function') disposable.dispose(); // not a model Kiln can use: free it as best it can
    throw error;
  }
}

/** The model's sample inputs: the zoo's, the caller's `sampleInputs(model)`, else made from the inputs its format gives. */
export function sampleInputsFor(model: ZooName | ConformanceModel, user: StockModel, options: ConformanceOptions): tf.Tensor[] {
  const seed = options.seed ?? 0;
  if (typeof model === 'string') return zooSampleInputs(ZOO[model]!, 1, seed);
  if (model.sampleInputs) return model.sampleInputs(user.model);
  return defaultSampleInputs(user.format.wrap(user.model, 'cpu', false).inputs, seed);
}

/** One batch row per input (every free dimension 1): seeded normal values, uniform integers 0..9 for int32 inputs. */
export function defaultSampleInputs(specs: readonly TensorSpec[], seed: number): tf.Tensor[] {
  return specs.map((spec, i) => {
    const shape = spec.shape.map((d) => d ?? 1);
    if (spec.dtype === 'int32') return tf.randomUniform(shape, 0, 10, 'int32', seed + i + 1);
    if (spec.dtype === 'bool') return tf.tidy(() => tf.randomUniform(shape, 0, 2, 'int32', seed + i + 1).cast('bool'));
    if (spec.dtype !== 'float32') {
      throw new Error(
        `input "${spec.name}" is ${spec.dtype}: the kit makes sample inputs for float32, int32 and bool inputs only; give the model sampleInputs(model)`,
      );
    }
    return tf.randomNormal(shape, 0, 1, 'float32', seed + i + 1);
  });
}
