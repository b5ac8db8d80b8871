/** Comparing the outputs of real models, and reloading written files with stock tf.js. */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

/** The values of every output, in order (the outputs are disposed). */
export function outputValues(outputs: tf.Tensor | tf.Tensor[]): Float32Array[] {
  const list = Array.isArray(outputs) ? outputs : [outputs];
  const values = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  return values;
}

export function maxAbsDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  expect(a.length, 'output count').to.equal(b.length);
  let max = 0;
  a.forEach((x, k) => {
    expect(x.length, `size of output ${k}`).to.equal(b[k]!.length);
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - b[k]![i]!));
  });
  return max;
}

/**
 * What two float32 computations of the same model may differ by here: 1e-3 of the
 * outputs' magnitude (at least 1e-3), the float32 tolerance of tf.js's own backend tests,
 * scaled to outputs that reach the hundreds (super-resolution pixels).
 */
export function tolerance(reference: readonly Float32Array[]): number {
  let scale = 1;
  for (const values of reference) for (const v of values) scale = Math.max(scale, Math.abs(v));
  return 1e-3 * scale;
}

/** A model loaded by stock tf.js, run as its users run it (`execute` for graph models, `predict` for layers models). */
export interface StockReload {
  run(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[];
  dispose(): void;
}

/** Loads written model files the way a user would: plain `tf.loadGraphModel` / `tf.loadLayersModel`. */
export async function stockReload(format: string, artifacts: tf.io.ModelArtifacts): Promise<StockReload> {
  if (format === 'graph-model') {
    const graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    return { run: (x) => graph.execute(x), dispose: () => graph.dispose() };
  }
  const layers = await tf.loadLayersModel(tf.io.fromMemory(artifacts), { strict: true });
  return { run: (x) => layers.predict(x), dispose: () => layers.dispose() };
}
