/** Shared helpers for the src/io tests. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

/** Every path under `root` (recursively) with its size and content hash-ish fingerprint. */
export async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string): Promise<void> {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full);
      if (entry.isDirectory()) {
        out[rel] = 'dir';
        await walk(full);
      } else if (entry.isSymbolicLink()) {
        out[rel] = `link:${await fs.readlink(full)}`;
      } else {
        out[rel] = Buffer.from(await fs.readFile(full)).toString('base64');
      }
    }
  }
  await walk(root);
  return out;
}

/** Names of `.kiln-tmp-*` entries anywhere under `root`. */
export async function tempLeftovers(root: string): Promise<string[]> {
  return Object.keys(await snapshot(root)).filter((rel) => rel.split(path.sep).some((part) => part.startsWith('.kiln-tmp-')));
}

/** A small conv + dense model with deterministic weights derived from `seed`. */
export function smallModel(seed = 1): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [5, 5, 1], filters: 2, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  model.setWeights(
    model.getWeights().map((w, i) => tf.tidy(() => tf.sin(tf.range(0, w.size).mul(0.37 * seed + i * 0.11)).reshape(w.shape))),
  );
  return model;
}

/** A fixed input for {@link smallModel}. */
export function sampleInput(): tf.Tensor {
  return tf.tidy(() => tf.cos(tf.range(0, 2 * 25).mul(0.29)).reshape([2, 5, 5, 1]));
}

/** Predictions of `model` on {@link sampleInput} as plain numbers. */
export function predictions(model: tf.LayersModel): number[] {
  return tf.tidy(() => Array.from((model.predict(sampleInput()) as tf.Tensor).dataSync()));
}

/** Assert two prediction vectors agree within `tol`. */
export function expectClose(actual: number[], expected: number[], tol = 1e-6): void {
  expect(actual).to.have.length(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]), `element ${i}: ${v} vs ${expected[i]}`).to.be.at.most(tol));
}
