import { basename, dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import { syntheticSampleInputs } from '../core/validation/validation-inputs.js';
import { loadLayersModelFromDisk, resolveModelJsonPath } from '../io/model-files.js';
import { listZoo, ZOO, zooSampleInputs, type ZooName } from '../zoo/index.js';

/** A model the suite measures: built fresh (seeded, or loaded from disk) as often as needed. */
export interface BenchSource {
  readonly name: string;
  readonly description: string;
  /** A fresh copy whose variables live on the active backend; the caller disposes it. */
  build(): Promise<tf.LayersModel>;
  /** Seeded inputs at `batch`, one per model input; the caller disposes them. */
  sampleInputs(model: tf.LayersModel, batch: number, seed: number): tf.Tensor[];
}

export const ZOO_PREFIX = 'zoo:';

/**
 * Resolves the targets of `kiln bench`: `zoo:NAME` (one zoo model), `zoo` (every zoo
 * model), or the path of a model.json or of its folder. `small` builds the zoo models
 * at their scaled-down size (quick checks). Unknown zoo names are a usage error that
 * lists the known ones.
 */
export async function resolveSources(targets: readonly string[], options: { small?: boolean } = {}): Promise<BenchSource[]> {
  const sources: BenchSource[] = [];
  for (const target of targets) {
    if (target === 'zoo') {
      for (const entry of listZoo()) sources.push(zooSource(entry.name, options.small));
    } else if (target.startsWith(ZOO_PREFIX)) {
      const name = target.slice(ZOO_PREFIX.length);
      if (!(name in ZOO))
        throw new ConfigError(
          `unknown zoo model "${name}" in "${target}"; the zoo has: ${listZoo()
            .map((e) => `zoo:${e.name}`)
            .join(', ')} (or "zoo" for all of them)`,
        );
      sources.push(zooSource(name as ZooName, options.small));
    } else {
      sources.push(await fileSource(target));
    }
  }
  const names = sources.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new ConfigError(`model "${twice}" is named twice in the targets`);
  return sources;
}

function zooSource(name: ZooName, small?: boolean): BenchSource {
  const entry = ZOO[name];
  return {
    name: small ? `${name} (small)` : name,
    description: entry.description,
    build: async () => entry.build({ small }),
    sampleInputs: (_model, batch, seed) => zooSampleInputs(entry, batch, seed),
  };
}

async function fileSource(target: string): Promise<BenchSource> {
  const path = resolve(target);
  const jsonPath = await resolveModelJsonPath(path);
  const name = basename(jsonPath) === 'model.json' ? basename(dirname(jsonPath)) : basename(jsonPath).replace(/\.json$/, '');
  return {
    name,
    description: jsonPath,
    build: () => loadLayersModelFromDisk(path),
    sampleInputs: (model, batch, seed) =>
      syntheticSampleInputs(
        model.inputs.map((t, i) => ({ name: model.inputNames[i] ?? t.name, shape: t.shape, dtype: t.dtype })),
        seed,
        batch,
      ),
  };
}
