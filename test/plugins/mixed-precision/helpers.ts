import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Decision } from '../../../src/core/pipeline/report.js';

/**
 * Loads a saved model the way a user with no Kiln would: plain `tf.loadLayersModel`
 * through an IO handler made of `fs` reads and `tf.io.fromMemory`.
 */
export async function plainLoad(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFile(path.join(dir, p))));
  const weightData = tf.io.concatenateArrayBuffers(
    shards.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
  );
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }),
  );
}

/** The largest |a - b| over every output. */
export function maxDiff(a: tf.Tensor | tf.Tensor[], b: tf.Tensor | tf.Tensor[]): number {
  const as = Array.isArray(a) ? a : [a];
  const bs = Array.isArray(b) ? b : [b];
  return Math.max(...as.map((t, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(t, bs[i]!))).dataSync()[0]!)));
}

/** The per-weight rows the plugin put in its decision. */
export function weightRows(decision: Decision): Record<string, string | number | boolean>[] {
  return (decision.tables?.weights ?? []) as Record<string, string | number | boolean>[];
}
