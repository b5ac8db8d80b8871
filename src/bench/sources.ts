import { basename, dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import type { StockModel } from '../core/formats/model-format.js';
import type { TensorSpec } from '../core/kiln-model.js';
import { syntheticSampleInputs } from '../core/validation/validation-inputs.js';
import { layersModelFormat } from '../formats/index.js';
import { loadStockModelFromDisk } from '../io/load-stock-model.js';
import { resolveModelJsonPath } from '../io/model-files.js';
import { listZoo, ZOO, zooSampleInputs, type ZooName } from '../zoo/index.js';

/**
 * A model the suite measures, of any registered format: built fresh (seeded, or loaded
 * from disk) as often as needed. The engine builds it once per model and backend and
 * makes every other copy with its format's `copyTo`.
 */
export interface BenchSource {
  readonly name: string;
  readonly description: string;
  /** A fresh model and its format, its weights on the active backend; the caller disposes it (`format.dispose`). */
  build(): Promise<StockModel>;
  /** Seeded inputs at `batch`, one per model input; the caller disposes them. */
  sampleInputs(model: StockModel, batch: number, seed: number): tf.Tensor[];
}

export const ZOO_PREFIX = 'zoo:';

/** The inputs of a model of any format (shape with null where free, dtype), as its KilnModel names them. */
export function stockInputs(stock: StockModel): readonly TensorSpec[] {
  // Wrapping runs nothing and owns nothing: it only reads the model's signature.
  return stock.format.wrap(stock.model, tf.getBackend(), false).inputs;
}

/** Seeded synthetic inputs at `batch` for a model of any format (what `kiln optimize` feeds a model without samples). */
export function syntheticStockInputs(stock: StockModel, batch: number, seed: number): tf.Tensor[] {
  return syntheticSampleInputs(stockInputs(stock), seed, batch);
}

/**
 * Resolves the targets of `kiln bench`: `zoo:NAME` (one zoo model), `zoo` (every zoo
 * model), or the path of a model.json or of its folder, of any registered format (a
 * tf.LayersModel or a tf.GraphModel with the built-in ones). `small` builds the zoo
 * models at their scaled-down size (quick checks). Unknown zoo names are a usage error
 * that lists the known ones.
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
  checkDistinctNames(sources);
  return sources;
}

/** Two sources of one name would share table rows: a usage error. */
export function checkDistinctNames(sources: readonly BenchSource[]): void {
  const names = sources.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new ConfigError(`model "${twice}" is named twice in the targets`);
}

function zooSource(name: ZooName, small?: boolean): BenchSource {
  const entry = ZOO[name];
  return {
    name: small ? `${name} (small)` : name,
    description: entry.description,
    build: async () => ({ format: layersModelFormat, model: await entry.build({ small }) }),
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
    build: () => loadStockModelFromDisk(path),
    sampleInputs: syntheticStockInputs,
  };
}
