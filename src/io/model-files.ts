/**
 * TensorFlow.js model files (model.json + binary weight shards) on the local disk, in plain
 * Node.js without tfjs-node. Reads are confined to the model's folder and size-checked; writes
 * are atomic as a group.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';

import { describeError, ModelFileError } from '../core/errors.js';
import { keepSourceStorage } from '../core/formats/keep-source-storage.js';
import { rememberSourceArtifacts, sourceArtifactsOf } from '../core/formats/source-artifacts.js';
import { writeFilesAtomic, type FileToWrite, type WriteFilesAtomicOptions } from './atomic-write.js';
import { interruptedSwapOf, type SwapStep } from './folder-swap.js';
import { resolveConfinedPath } from './confined-path.js';
import { joinWeightData, weightSpecsByteLength } from './weight-bytes.js';

/** File name used when a folder is given instead of a model.json path. */
export const MODEL_JSON = 'model.json';

/** Largest shard written by {@link diskModelIO}'s `save` (4 MiB, as the tfjs converter uses). */
export const SHARD_BYTES = 4 * 1024 * 1024;

const SHARD_NAME = /^group\d+-shard\d+of\d+\.bin$/;

/** Options for {@link diskModelIO} and {@link saveModelToDisk}. */
export interface DiskModelIOOptions {
  /** Passed to {@link writeFilesAtomic}; a fault-injection hook for tests. */
  beforeCommit?: WriteFilesAtomicOptions['beforeCommit'];
  /** Fault-injection hook for tests: awaited before each step of the folder swap (see folder-swap.ts). */
  beforeSwapStep?: (step: SwapStep) => void | Promise<void>;
  /** More files to write in the same group as the model (e.g. `kiln-report.json`): all land, or none. */
  extraFiles?: readonly FileToWrite[];
  /**
   * Files of an earlier save that belong to the model and must not outlive it (e.g. the
   * `model.onnx` of a run that onnxruntime won): not carried into the new folder unless
   * written again. Everything else the folder holds is carried.
   */
  notCarried?: readonly string[];
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The model.json path for a user-supplied path: a folder means `<folder>/model.json`; anything
 * else is taken as the model.json file itself.
 */
export async function resolveModelJsonPath(modelPath: string): Promise<string> {
  const abs = path.resolve(modelPath);
  try {
    const stat = await fs.stat(abs);
    return stat.isDirectory() ? path.join(abs, MODEL_JSON) : abs;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      const aside = await interruptedSwapOf(abs);
      throw new ModelFileError(
        aside
          ? `Model not found: ${abs} does not exist, because a save into it was interrupted: the previous model is in ${aside}. The next save into ${abs} puts it back (or rename it back yourself).`
          : `Model not found: ${abs} does not exist. Pass the path of a model.json file or of the folder that holds it.`,
        { cause: error },
      );
    }
    throw new ModelFileError(`Cannot access model path ${abs} (${describeError(error)}): check permissions.`, { cause: error });
  }
}

async function readModelJson(jsonPath: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') {
      throw new ModelFileError(`Model file ${jsonPath} is missing: pass the path of a model.json file or of the folder that holds it.`, {
        cause: error,
      });
    }
    throw new ModelFileError(`Cannot read model file ${jsonPath} (${describeError(error)}): check it is a readable file.`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ModelFileError(
      `Model file ${jsonPath} is not valid JSON (${describeError(error)}): re-export the model or restore an intact copy of the file.`,
      { cause: error },
    );
  }
  if (!isRecord(parsed)) {
    throw new ModelFileError(
      `Model file ${jsonPath} does not hold a JSON object: a TensorFlow.js model.json is an object with modelTopology and weightsManifest.`,
    );
  }
  return parsed;
}

function checkManifest(manifest: unknown, jsonPath: string): tf.io.WeightsManifestConfig {
  const bad = (why: string): ModelFileError =>
    new ModelFileError(`The weightsManifest of ${jsonPath} ${why}: re-export the model or fix model.json.`);
  if (!Array.isArray(manifest)) throw bad('is not an array of groups');
  manifest.forEach((group: unknown, i) => {
    if (!isRecord(group)) throw bad(`has group ${i + 1} that is not an object`);
    if (!Array.isArray(group.paths) || !group.paths.every((p) => typeof p === 'string')) {
      throw bad(`has group ${i + 1} whose "paths" is not a list of file names`);
    }
    if (!Array.isArray(group.weights)) throw bad(`has group ${i + 1} whose "weights" is not a list`);
  });
  return manifest as tf.io.WeightsManifestConfig;
}

async function readShard(file: string, entry: string, jsonPath: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new ModelFileError(
        `Weight shard ${JSON.stringify(entry)} listed in ${jsonPath} is missing (looked for ${file}): ` +
          'copy every file named in weightsManifest next to model.json, or re-export the model.',
        { cause: error },
      );
    }
    throw new ModelFileError(
      `Cannot read weight shard ${JSON.stringify(entry)} listed in ${jsonPath} (${describeError(error)}): check it is a readable file.`,
      { cause: error },
    );
  }
}

/** Read, confine and size-check a model.json and its shards into ModelArtifacts. */
async function loadArtifacts(modelPath: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = await resolveModelJsonPath(modelPath);
  const modelJson = await readModelJson(jsonPath);
  const rootDir = path.dirname(jsonPath);

  const artifacts: tf.io.ModelArtifacts = {};
  for (const key of [
    'modelTopology',
    'format',
    'generatedBy',
    'convertedBy',
    'trainingConfig',
    'userDefinedMetadata',
    'signature',
    'modelInitializer',
    'initializerSignature',
  ] as const) {
    if (modelJson[key] !== undefined) (artifacts as Record<string, unknown>)[key] = modelJson[key];
  }
  if (modelJson.weightsManifest === undefined) return artifacts;

  const manifest = checkManifest(modelJson.weightsManifest, jsonPath);
  // Confine every path before reading any file.
  const resolved: string[][] = [];
  for (const group of manifest) {
    const files: string[] = [];
    for (const entry of group.paths) files.push(await resolveConfinedPath(rootDir, entry, jsonPath));
    resolved.push(files);
  }

  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const [g, group] of manifest.entries()) {
    const expected = weightSpecsByteLength(group.weights, jsonPath);
    const shards = await Promise.all(resolved[g].map((file, i) => readShard(file, group.paths[i], jsonPath)));
    const actual = shards.reduce((n, s) => n + s.byteLength, 0);
    if (actual !== expected) {
      const how = actual < expected ? 'shards are truncated or missing data' : 'shards hold extra data';
      throw new ModelFileError(
        `${jsonPath}'s weightsManifest expects ${expected} bytes but the shards hold ${actual} ` +
          `(group ${g + 1}: ${group.paths.join(', ')}; ${how}): re-export or re-copy the model.`,
      );
    }
    weightSpecs.push(...group.weights);
    chunks.push(...shards);
    total += actual;
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    weightData.set(chunk, offset);
    offset += chunk.byteLength;
  }
  artifacts.weightSpecs = weightSpecs;
  artifacts.weightData = weightData.buffer;
  return artifacts;
}

function saveTarget(target: string): { dir: string; jsonName: string } {
  const abs = path.resolve(target);
  return abs.toLowerCase().endsWith('.json')
    ? { dir: path.dirname(abs), jsonName: path.basename(abs) }
    : { dir: abs, jsonName: MODEL_JSON };
}

/** Shard names listed by an existing model.json that a new save would orphan (best effort). */
async function staleShards(dir: string, jsonName: string, keep: ReadonlySet<string>): Promise<string[]> {
  try {
    const old: unknown = JSON.parse(await fs.readFile(path.join(dir, jsonName), 'utf8'));
    if (!isRecord(old) || !Array.isArray(old.weightsManifest)) return [];
    return old.weightsManifest
      .flatMap((group: unknown) => (isRecord(group) && Array.isArray(group.paths) ? group.paths : []))
      .filter((p): p is string => typeof p === 'string' && SHARD_NAME.test(p) && !keep.has(p));
  } catch {
    return [];
  }
}

async function saveArtifacts(target: string, artifacts: tf.io.ModelArtifacts, options: DiskModelIOOptions): Promise<tf.io.SaveResult> {
  const { dir, jsonName } = saveTarget(target);
  const jsonPath = path.join(dir, jsonName);
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new ModelFileError(
      `Cannot save ${jsonPath}: the model topology is a binary GraphDef, and model.json needs a JSON topology. ` +
        'Save a LayersModel or a JSON graph model.',
    );
  }
  const specs = artifacts.weightSpecs ?? [];
  const weightData = joinWeightData(artifacts.weightData);
  const bytes = new Uint8Array(weightData);
  const expected = weightSpecsByteLength(specs, `the model being saved to ${jsonPath}`);
  if (expected !== bytes.byteLength) {
    throw new ModelFileError(
      `Cannot save ${jsonPath}: the weight specs describe ${expected} bytes but the weight data holds ${bytes.byteLength}. ` +
        'The model handed to save is inconsistent; rebuild it before saving.',
    );
  }

  const shardCount = Math.max(1, Math.ceil(bytes.byteLength / SHARD_BYTES));
  const shards: FileToWrite[] = [];
  for (let k = 0; k < shardCount; k++) {
    shards.push({
      name: `group1-shard${k + 1}of${shardCount}.bin`,
      data: bytes.subarray(k * SHARD_BYTES, Math.min((k + 1) * SHARD_BYTES, bytes.byteLength)),
    });
  }

  const modelJson: Record<string, unknown> = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    modelTopology: artifacts.modelTopology,
    trainingConfig: artifacts.trainingConfig,
    weightsManifest: [{ paths: shards.map((s) => s.name), weights: specs }],
    signature: artifacts.signature,
    userDefinedMetadata: artifacts.userDefinedMetadata,
    modelInitializer: artifacts.modelInitializer,
    initializerSignature: artifacts.initializerSignature,
  };
  for (const key of Object.keys(modelJson)) if (modelJson[key] === undefined) delete modelJson[key];

  // The whole folder is replaced: the old model's own shards are not carried into it, everything else is.
  const stale = new Set([...(await staleShards(dir, jsonName, new Set(shards.map((s) => s.name)))), ...(options.notCarried ?? [])]);
  await writeFilesAtomic(dir, [...shards, ...(options.extraFiles ?? []), { name: jsonName, data: JSON.stringify(modelJson) }], {
    last: jsonName,
    beforeCommit: options.beforeCommit,
    replaceFolder: { carry: (name) => !stale.has(name), beforeStep: options.beforeSwapStep },
  });

  return {
    modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightData }),
  };
}

/**
 * A `tf.io.IOHandler` for a model on the local disk.
 *
 * `load()` reads `model.json` and every shard in its weightsManifest (paths must stay inside the
 * model's folder), checks the shard bytes against the weight specs, and returns the artifacts
 * with one concatenated `weightData` ArrayBuffer. `save()` writes `model.json` plus 4 MiB
 * `group1-shardKofN.bin` shards atomically (model.json last).
 *
 * @param modelPath a model.json file, or a folder (meaning `<folder>/model.json`). For `save`, a
 *   path ending in `.json` names the JSON file; anything else is the folder to save into.
 * @throws ModelFileError from `load`/`save` for every failure.
 */
export function diskModelIO(modelPath: string, options: DiskModelIOOptions = {}): tf.io.IOHandler {
  return {
    load: () => loadArtifacts(modelPath),
    save: (artifacts: tf.io.ModelArtifacts) => saveArtifacts(modelPath, artifacts, options),
  };
}

function asModelFileError(error: unknown, what: string): ModelFileError {
  if (error instanceof ModelFileError) return error;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof ModelFileError) return cause;
  return new ModelFileError(`${what} (${describeError(error)}).`, { cause: error });
}

/**
 * Load a `tf.LayersModel` from a model.json file or its folder, without tfjs-node.
 * (`loadModelFromDisk` loads either format; `loadGraphModelFromDisk` graph models.)
 *
 * @throws ModelFileError for unreadable, unsafe or inconsistent files, for a graph model, and for
 *   topologies tfjs cannot build.
 */
export async function loadLayersModelFromDisk(modelPath: string, options: { strict?: boolean } = {}): Promise<tf.LayersModel> {
  const artifacts = await diskModelIO(modelPath).load!();
  if (isGraphModelJson(artifacts)) {
    throw new ModelFileError(
      `${path.resolve(modelPath)} is a graph model (tf.GraphModel), not a layers model: load it with loadGraphModelFromDisk or loadModelFromDisk.`,
    );
  }
  try {
    // Remembered so that saving it keeps the weights its files store quantised as they were stored.
    return rememberSourceArtifacts(await tf.loadLayersModel(tf.io.fromMemory(artifacts), options), artifacts);
  } catch (error) {
    throw asModelFileError(error, `Cannot build a LayersModel from ${path.resolve(modelPath)}: check it is a TensorFlow.js layers model`);
  }
}

/**
 * Load a `tf.GraphModel` (tfjs-converter's format) from a model.json file or its folder,
 * without tfjs-node. Its weights keep the storage they shipped with when it is saved again.
 *
 * @throws ModelFileError for unreadable, unsafe or inconsistent files, for a layers model, and
 *   for graphs tfjs cannot build.
 */
export async function loadGraphModelFromDisk(modelPath: string): Promise<tf.GraphModel> {
  const artifacts = await diskModelIO(modelPath).load!();
  if (!isGraphModelJson(artifacts)) {
    throw new ModelFileError(
      `${path.resolve(modelPath)} is not a graph model (its format is ${JSON.stringify(artifacts.format ?? null)} and its modelTopology has no "node" list): ` +
        'load a layers model with loadLayersModelFromDisk or loadModelFromDisk.',
    );
  }
  if (artifacts.weightSpecs === undefined) {
    throw new ModelFileError(
      `${path.resolve(modelPath)} has no weightsManifest, so the graph's weights are missing: re-convert the model with its weights.`,
    );
  }
  try {
    return await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw asModelFileError(error, `Cannot build a GraphModel from ${path.resolve(modelPath)}: check it is a TensorFlow.js graph model`);
  }
}

/** Whether model.json is tfjs-converter's graph format: `format: "graph-model"` or a GraphDef topology (`node`). */
function isGraphModelJson(artifacts: tf.io.ModelArtifacts): boolean {
  const topology = artifacts.modelTopology as { node?: unknown } | undefined;
  return artifacts.format === 'graph-model' || (isRecord(topology) && Array.isArray(topology.node));
}

/**
 * Save model artifacts as they are (e.g. with quantised weights: manifest entries carrying
 * `quantization`) as `model.json` plus weight shards into `dir`, atomically as a group.
 *
 * @throws ModelFileError when the files cannot be written; the previous model in `dir` is kept.
 */
export async function saveArtifactsToDisk(artifacts: tf.io.ModelArtifacts, dir: string, options: DiskModelIOOptions = {}): Promise<void> {
  try {
    await saveArtifacts(dir, artifacts, options);
  } catch (error) {
    throw asModelFileError(error, `Cannot save the model to ${path.resolve(dir)}`);
  }
}

/**
 * Save a `tf.LayersModel` or a `tf.GraphModel` as `model.json` plus weight shards into `dir`
 * (atomically, as a group). A graph model's weights keep the storage it was loaded with; so
 * do the weights of a layers model that Kiln loaded from quantised files, while their values
 * are unchanged (tf.js alone writes every layers weight as float32).
 *
 * @throws ModelFileError when the files cannot be written; the previous model in `dir` is kept.
 */
export async function saveModelToDisk(model: tf.LayersModel | tf.GraphModel, dir: string, options: DiskModelIOOptions = {}): Promise<void> {
  const source = sourceArtifactsOf(model);
  const disk = diskModelIO(dir, options);
  const handler =
    source && model instanceof tf.LayersModel
      ? tf.io.withSaveHandler((saved) => disk.save!(keepSourceStorage(saved, source).artifacts))
      : disk;
  try {
    await model.save(handler);
  } catch (error) {
    throw asModelFileError(error, `Cannot save the model to ${path.resolve(dir)}`);
  }
}
