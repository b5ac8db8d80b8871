import { basename, dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import type { StockModel } from '../core/formats/model-format.js';
import type { TensorSpec } from '../core/kiln-model.js';
import { bindInputSamples, describeInputs, sampleInputsFor, type InputSampleEntry } from '../core/validation/input-samples.js';
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
  /** The model's inputs, for the checks of the given sample inputs (model files only). */
  inputSpecs?(): Promise<TensorSpec[]>;
}

export interface SourceOptions {
  /** Zoo models at their scaled-down size. */
  readonly small?: boolean;
  /**
   * What was given for the sample inputs of model files, lowest priority first (the
   * config's `inputs:`, then the command line's flags); see `bindInputSamples`. Each
   * model takes the entries named for its inputs; unnamed ones are for models of one input.
   */
  readonly inputs?: readonly (readonly InputSampleEntry[])[];
}

/** The inputs of a model of any format (shape with null where free, dtype), as its KilnModel names them. */
export function stockInputs(stock: StockModel): readonly TensorSpec[] {
  // Wrapping runs nothing and owns nothing: it only reads the model's signature.
  return stock.format.wrap(stock.model, tf.getBackend(), false).inputs;
}

/** Seeded synthetic inputs at `batch` for a model of any format (what `kiln optimize` feeds a model without samples). */
export function syntheticStockInputs(stock: StockModel, batch: number, seed: number): tf.Tensor[] {
  return syntheticSampleInputs(stockInputs(stock), seed, batch);
}

export const ZOO_PREFIX = 'zoo:';

/**
 * Resolves the targets of `kiln bench`: `zoo:NAME` (one zoo model), `zoo` (every zoo
 * model), or the path of a model.json or of its folder, of any registered format (a
 * tf.LayersModel or a tf.GraphModel with the built-in ones). `small` builds the zoo
 * models at their scaled-down size (quick checks). Unknown zoo names are a usage error
 * that lists the known ones.
 */
export async function resolveSources(targets: readonly string[], options: SourceOptions = {}): Promise<BenchSource[]> {
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
      sources.push(await fileSource(target, options.inputs ?? []));
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

async function fileSource(target: string, layers: readonly (readonly InputSampleEntry[])[]): Promise<BenchSource> {
  const path = resolve(target);
  const jsonPath = await resolveModelJsonPath(path);
  const name = basename(jsonPath) === 'model.json' ? basename(dirname(jsonPath)) : basename(jsonPath).replace(/\.json$/, '');
  return {
    name,
    description: jsonPath,
    build: () => loadStockModelFromDisk(path),
    // Every input at the cell's batch: a given shape's batch axis and a file's rows follow it.
    sampleInputs: (stock, batch, seed) => {
      const specs = stockInputs(stock);
      const inputs = bindInputSamples(specs, layers, { unknownNames: 'skip' });
      return sampleInputsFor(specs, { seed, batch, everyInputAtBatch: true, inputs });
    },
    inputSpecs: async () => {
      const stock = await loadStockModelFromDisk(path);
      try {
        return [...stockInputs(stock)];
      } finally {
        stock.format.dispose(stock.model);
      }
    },
  };
}

/**
 * Checks the sample inputs of every model file among the sources before anything is
 * measured: a named entry that no model file has an input of is an error listing their
 * inputs; then each model's samples are made once (batch 1, so a free dimension with no
 * shape given fails here) and disposed. Flags given with no model file among the
 * targets are an error.
 */
export async function checkSourceInputs(sources: readonly BenchSource[], layers: readonly (readonly InputSampleEntry[])[]): Promise<void> {
  const entries = layers.flat();
  const files = sources.filter((s) => s.inputSpecs);
  if (files.length === 0) {
    const flagged = layers[layers.length - 1]?.[0];
    if (flagged)
      throw new ConfigError(
        `${flagged.from}: the input flags are for model files (model.json), and the targets are zoo models only, whose inputs Kiln makes itself. Leave the flag out.`,
      );
    return;
  }
  const all: { source: string; specs: TensorSpec[] }[] = [];
  for (const source of files) all.push({ source: source.name, specs: await source.inputSpecs!() });
  for (const entry of entries) {
    if (entry.name === undefined || all.some((m) => m.specs.some((s) => s.name === entry.name))) continue;
    throw new ConfigError(
      `${entry.from}: no model among the targets has an input named "${entry.name}"; their inputs: ${all.map((m) => `${m.source}: ${describeInputs(m.specs)}`).join('; ')}. Use one of these names.`,
    );
  }
  for (const { specs } of all) {
    const inputs = bindInputSamples(specs, layers, { unknownNames: 'skip' });
    tf.dispose(sampleInputsFor(specs, { seed: 0, batch: 1, everyInputAtBatch: true, inputs }));
  }
}
