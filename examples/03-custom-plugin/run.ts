/**
 * 03 - A custom plugin: a third-party plugin in its own package (`kiln-plugin-example/`,
 * plain CommonJS that depends on tfjs-kiln and uses only its public exports), loaded
 * through `plugins:` in this folder's kiln.yaml. The same pipeline accepts it on one
 * model and rejects it, with its reason, on another.
 *
 *   npm run build && node dist/examples/03-custom-plugin/run.js [--small] [--json]
 *
 * It imports Kiln as your own project would, `from 'tfjs-kiln'` (inside this repository
 * that name resolves to the package itself, through package.json's `exports`).
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig, optimize, PluginRegistry, type Decision } from 'tfjs-kiln';

/** This example's folder in the repository (the script runs from dist/examples/03-custom-plugin). */
export const EXAMPLE_DIR = path.resolve(__dirname, '../../..', 'examples', '03-custom-plugin');
const REPO_ROOT = path.resolve(EXAMPLE_DIR, '../..');
const PLUGIN_DIR = path.join(EXAMPLE_DIR, 'kiln-plugin-example');
export const KILN_YAML = path.join(EXAMPLE_DIR, 'kiln.yaml');

/**
 * Links the packages as npm would, without a network: the plugin's `"tfjs-kiln":
 * "file:../../.."` dependency (npm links a `file:` folder), and the plugin package
 * into this folder's node_modules (`npm install ./kiln-plugin-example`). Both are
 * symbolic links, so Node loads one tfjs-kiln (modules are cached by real path): the
 * plugin registers with the same Kiln that runs the pipeline.
 */
export async function installPluginPackage(): Promise<void> {
  await link(path.join(PLUGIN_DIR, 'node_modules', 'tfjs-kiln'), REPO_ROOT);
  await link(path.join(EXAMPLE_DIR, 'node_modules', 'kiln-plugin-example'), PLUGIN_DIR);
}

async function link(at: string, to: string): Promise<void> {
  const real = async (p: string) => fs.realpath(p).catch(() => undefined);
  if ((await real(at)) === (await real(to))) return;
  await fs.rm(at, { recursive: true, force: true }).catch(() => undefined);
  await fs.mkdir(path.dirname(at), { recursive: true });
  try {
    // A relative link, as npm makes; Windows junctions need an absolute target.
    if (process.platform === 'win32') await fs.symlink(to, at, 'junction');
    else await fs.symlink(path.relative(path.dirname(at), to), at, 'dir');
  } catch (error) {
    // Another process linked it meanwhile.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || (await real(at)) !== (await real(to))) throw error;
  }
}

/**
 * A 64-128-10 classifier as L1 regularisation leaves one: 90% of the kernel weights
 * have collapsed to ~1e-7, the rest are far from zero. Pruning removes only noise.
 */
export function buildL1TrainedModel(seed = 1): tf.LayersModel {
  const model = denseModel('l1_trained');
  const kernels = model.getWeights().map((w, i) =>
    tf.tidy(() => {
      if (w.rank < 2) return tf.randomUniform(w.shape, -0.05, 0.05, 'float32', seed + 10 * i);
      const sign = tf.sign(tf.randomUniform(w.shape, -1, 1, 'float32', seed + 10 * i + 1));
      const survives = tf.less(tf.randomUniform(w.shape, 0, 1, 'float32', seed + 10 * i + 2), 0.1);
      const magnitude = tf.where(
        survives,
        tf.randomUniform(w.shape, 0.1, 1, 'float32', seed + 10 * i + 3),
        tf.randomUniform(w.shape, 0, 2e-7, 'float32', seed + 10 * i + 4),
      );
      return tf.mul(sign, magnitude);
    }),
  );
  model.setWeights(kernels);
  tf.dispose(kernels);
  return model;
}

/** The same architecture, its weights as Glorot initialisation leaves them: many are small, and every one matters. */
export function buildDenseModel(seed = 1): tf.LayersModel {
  return denseModel('dense', seed);
}

function denseModel(name: string, seed = 1): tf.LayersModel {
  const input = tf.input({ shape: [64], name: 'features' });
  const hidden = tf.layers
    .dense({ units: 128, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'hidden' })
    .apply(input) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), name: 'probs' })
    .apply(hidden) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name });
}

export interface CustomPluginResult {
  /** The plugin's decision on the L1-trained model, and on the dense one. */
  readonly sparseModel: Decision;
  readonly denseModel: Decision;
  /** Whether the plugin registered with this process's Kiln (one tfjs-kiln module, not two). */
  readonly registeredWithThisKiln: boolean;
  /** Where the plugin package's `require('tfjs-kiln')` leads (a real path). */
  readonly pluginSeesKilnAt: string;
}

export async function main(options: { small?: boolean; print?: boolean } = {}): Promise<CustomPluginResult> {
  const log = options.print === false ? () => undefined : (line: string) => console.log(line);
  await installPluginPackage();
  // Importing the package named under plugins: registers prune-small-weights; its options are checked here too.
  const config = await loadConfig(KILN_YAML, {
    overrides: options.small ? { benchmark: { warmup: 1, iterations: 5 }, validation: { samples: 1 } } : undefined,
  });
  const registeredWithThisKiln = new PluginRegistry().has('prune-small-weights');
  const pluginSeesKilnAt = createRequire(path.join(PLUGIN_DIR, 'index.js')).resolve('tfjs-kiln');

  const decisions: Decision[] = [];
  const x = tf.randomNormal([4, 64], 0, 1, 'float32', 3);
  try {
    for (const [label, build] of [
      ['L1-trained model', buildL1TrainedModel],
      ['dense model', buildDenseModel],
    ] as const) {
      const model = build();
      try {
        const { model: optimized, report } = await optimize(model, { config, sampleInputs: [x] });
        optimized.dispose();
        const decision = report.decisions.find((d) => d.plugin === 'prune-small-weights')!;
        decisions.push(decision);
        log(`${label}: prune-small-weights ${decision.status}: ${decision.reason}`);
        for (const note of decision.notes) log(`  note: ${note}`);
      } finally {
        model.dispose();
      }
    }
  } finally {
    x.dispose();
  }
  return { sparseModel: decisions[0]!, denseModel: decisions[1]!, registeredWithThisKiln, pluginSeesKilnAt };
}

if (require.main === module) {
  tf.env().set('PROD', true); // silences tf.js's "install tfjs-node" banner
  const json = process.argv.includes('--json');
  main({ small: process.argv.includes('--small') || process.env.KILN_EXAMPLES_SMALL === '1', print: !json })
    .then((result) => {
      if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    });
}
