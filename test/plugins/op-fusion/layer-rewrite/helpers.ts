import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { saveModelToDisk } from '../../../../src/io/model-files.js';
import { rewriteLayers, type LayerRewriteOptions, type LayerRewriteReport } from '../../../../src/plugins/op-fusion/layer-rewrite/index.js';
import { makeTempDir, removeTempDir } from '../../../helpers/temp-dir.js';

export const ATOL = 1e-5;
export const RTOL = 1e-4;

export const classesOf = (model: tf.LayersModel): string[] => model.layers.map((l) => l.getClassName());
export const countOf = (model: tf.LayersModel, className: string): number => classesOf(model).filter((c) => c === className).length;
export const configOf = (model: tf.LayersModel, name: string): tf.serialization.ConfigDict => model.getLayer(name).getConfig();
/** Weight names (`originalName`) of a model, sorted. */
export const weightNamesOf = (model: tf.LayersModel): string[] => model.weights.map((w) => w.originalName).sort();

/**
 * Gives every BatchNormalization in `model` seeded, clearly non-trivial statistics (new
 * tensors through setWeights, disposed afterwards): gamma in [-1.5, 1.5], beta and
 * moving mean in [-0.5, 0.5], moving variance in [0.3, 2]. Weights are matched by name,
 * so `center: false` / `scale: false` layers work.
 */
export function seedBatchNorms(model: tf.LayersModel, seed: number): void {
  model.layers.forEach((layer, i) => {
    if (layer.getClassName() !== 'BatchNormalization') return;
    const values = tf.tidy(() =>
      layer.weights.map((w, k) => {
        const s = seed + 10 * i + k + 1;
        const name = w.originalName.split('/').pop();
        const shape = w.shape as number[];
        if (name === 'gamma') return tf.randomUniform(shape, -1.5, 1.5, 'float32', s);
        if (name === 'moving_variance') return tf.randomUniform(shape, 0.3, 2, 'float32', s);
        return tf.randomUniform(shape, -0.5, 0.5, 'float32', s);
      }),
    );
    layer.setWeights(values);
    tf.dispose(values);
  });
}

/** Seeded normal inputs for every model input (batch `batch`). */
export function randomInputs(model: tf.LayersModel, batch = 3, seed = 17): tf.Tensor[] {
  return model.inputs.map((input, i) =>
    tf.randomNormal(
      input.shape.map((d) => d ?? batch),
      0,
      1,
      'float32',
      seed + i,
    ),
  );
}

/** Every output of `model.predict(inputs)` as plain arrays (no tensors left behind). */
export function predictValues(model: tf.LayersModel, inputs: tf.Tensor[]): Float32Array[] {
  return tf.tidy(() => {
    const out = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
}

/** |actual - expected| <= ATOL + RTOL * |expected| everywhere, per output. */
export function expectClose(actual: Float32Array[], expected: Float32Array[], what: string): void {
  expect(actual.length, `${what}: output count`).to.equal(expected.length);
  expected.forEach((exp, o) => {
    const act = actual[o]!;
    expect(act.length, `${what}: output ${o} size`).to.equal(exp.length);
    let worst = 0;
    let at = -1;
    for (let i = 0; i < exp.length; i++) {
      const excess = Math.abs(act[i]! - exp[i]!) - (ATOL + RTOL * Math.abs(exp[i]!));
      if (!(excess <= worst) || Number.isNaN(act[i]!)) {
        worst = Number.isNaN(act[i]!) ? Infinity : excess;
        at = i;
      }
    }
    expect(at, `${what}: output ${o} element ${at} is ${act[at]} but expected ${exp[at]}`).to.equal(-1);
  });
}

/** originalName -> exact bytes of every weight of `model` (read from the variables, no copies left as tensors). */
export function weightBytes(model: tf.LayersModel): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const w of model.weights) {
    const values = w.read().dataSync();
    out.set(w.originalName, Buffer.from(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)));
  }
  return out;
}

/** Saves with Kiln's saver into a temp dir, then loads with plain tfjs from the raw files (no Kiln code at load). */
export async function saveAndLoadPlain(model: tf.LayersModel): Promise<tf.LayersModel> {
  const dir = await makeTempDir('kiln-layer-rewrite-');
  try {
    await saveModelToDisk(model, dir);
    const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as {
      modelTopology: object;
      weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    };
    const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
    const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFile(path.join(dir, p))));
    const joined = Buffer.concat(shards);
    const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
  } finally {
    await removeTempDir(dir);
  }
}

export interface VerifiedRewrite {
  readonly model: tf.LayersModel;
  readonly report: LayerRewriteReport;
}

/**
 * Rewrites `source` and checks everything every rewrite must satisfy:
 * - no tensor leaks: the only new tensors are the rewritten model's own weights;
 * - the source is untouched: topology JSON and every weight byte-identical, and it still predicts;
 * - the rewritten model predicts the same as the source (ATOL/RTOL) on seeded inputs;
 * - it saves with Kiln's saver and loads back with plain tfjs, predicting the same again;
 * - report layer counts agree with the model.
 * The caller disposes the returned model.
 */
export async function rewriteAndVerify(source: tf.LayersModel, options?: LayerRewriteOptions, batch = 3): Promise<VerifiedRewrite> {
  const inputs = randomInputs(source, batch);
  const expected = predictValues(source, inputs);
  const topologyBefore = JSON.stringify(source.toJSON(null, false));
  const bytesBefore = weightBytes(source);

  const tensorsBefore = tf.memory().numTensors;
  const { model, report } = await rewriteLayers(source, options);
  expect(tf.memory().numTensors, 'new tensors = the rewritten model weights only').to.equal(tensorsBefore + model.weights.length);

  try {
    expect(model, 'a new model').to.not.equal(source);
    expect(model).to.be.instanceOf(tf.LayersModel);
    expect(JSON.stringify(source.toJSON(null, false)), 'source topology unchanged').to.equal(topologyBefore);
    const bytesAfter = weightBytes(source);
    expect([...bytesAfter.keys()], 'source weight names unchanged').to.deep.equal([...bytesBefore.keys()]);
    for (const [name, bytes] of bytesBefore)
      expect(bytesAfter.get(name)!.equals(bytes), `source weight ${name} byte-identical`).to.equal(true);
    expectClose(predictValues(source, inputs), expected, 'source after rewrite');

    expectClose(predictValues(model, inputs), expected, 'rewritten model');
    expect(report.layersAfter).to.equal(model.layers.length);

    const loaded = await saveAndLoadPlain(model);
    try {
      expect(classesOf(loaded)).to.deep.equal(classesOf(model));
      expectClose(predictValues(loaded, inputs), expected, 'rewritten model saved and loaded with plain tfjs');
    } finally {
      loaded.dispose();
    }
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose(inputs);
  }
  return { model, report };
}

/** `rule -> { matched, applied }` for the rules named, from a report. */
export const ruleCounts = (report: LayerRewriteReport, rule: string) => report.perRule[rule];
