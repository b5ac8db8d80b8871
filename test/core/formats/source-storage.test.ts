/**
 * Shipped quantisation is kept (issue 16): a layers model whose files store weights as
 * uint8, float16 or uint16 is written back with that storage, byte for byte, as long as
 * the weights' values are the ones those files decode to; a weight whose values changed
 * (fine-tuned after loading, folded by a rewrite) is written at full width, never with
 * stale bytes. And `optimize()` with the default pipeline writes such a model no larger
 * than it came.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'chai';

import { keepSourceStorage } from '../../../src/core/formats/keep-source-storage.js';
import { rememberSourceArtifacts, sourceArtifactsOf } from '../../../src/core/formats/source-artifacts.js';
import { cloneLayersModel, layersModelFormat } from '../../../src/formats/index.js';
import { saveLayersModelArtifacts } from '../../../src/formats/layers-model/save-layers-model.js';
import { loadLayersModelFromDisk, saveArtifactsToDisk, saveModelToDisk } from '../../../src/io/model-files.js';
import { optimize } from '../../../src/optimize.js';
import { encodeWeight, quantizeArtifacts, sourceWeights, type StoredPrecision } from '../../../src/plugins/mixed-precision/quantize.js';
import { buildDepthwiseCnn } from '../../../src/zoo/depthwise-cnn.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';
import { describeRun, runKiln } from '../../cli/run-cli.js';

/** What tf.js alone writes for a LayersModel: every weight float32. */
const savedArtifacts = saveLayersModelArtifacts;

/** `artifacts` with every float32 weight of `minElements` or more stored at `precision`, as a converter would ship it. */
function quantized(artifacts: tf.io.ModelArtifacts, precision: StoredPrecision, minElements = 1): tf.io.ModelArtifacts {
  const encoded = new Map(
    [...sourceWeights(artifacts)]
      .filter(([, w]) => w.values && w.values.length >= minElements)
      .map(([name, w]) => [name, encodeWeight(w.spec, w.values!, precision)]),
  );
  return quantizeArtifacts(artifacts, encoded).artifacts;
}

const weightBytes = (a: tf.io.ModelArtifacts) =>
  (Array.isArray(a.weightData) ? a.weightData : [a.weightData!]).reduce((n, b) => n + b.byteLength, 0);
const bytesOf = (a: tf.io.ModelArtifacts) =>
  new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(a.weightData) ? a.weightData : [a.weightData!]));

async function binBytes(dir: string): Promise<number> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.bin'));
  const sizes = await Promise.all(files.map(async (f) => (await fs.stat(path.join(dir, f))).size));
  return sizes.reduce((n, s) => n + s, 0);
}

function weightValues(model: tf.LayersModel): Map<string, number[]> {
  return new Map(model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
}

describe('shipped weight storage is kept when Kiln writes a layers model', function () {
  let dir: string;
  let model: tf.LayersModel;
  let float32: tf.io.ModelArtifacts;

  before(async () => {
    await tf.setBackend('wasm'); // initialised once, for the backend copy
    await tf.setBackend('cpu');
    model = buildDepthwiseCnn();
    float32 = await savedArtifacts(model);
  });
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });
  after(() => model.dispose());

  for (const precision of ['uint8', 'float16', 'uint16'] as const) {
    it(`${precision}: keepSourceStorage writes each unchanged weight with the source's bytes and quantization entry`, async () => {
      const source = quantized(float32, precision);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(source));
      const saved = await savedArtifacts(loaded); // tf.js alone: every weight float32
      expect(weightBytes(saved)).to.equal(weightBytes(float32));
      const kept = keepSourceStorage(saved, source);
      expect(kept.kept).to.equal(source.weightSpecs!.filter((s) => s.quantization).length);
      expect(kept.changed).to.equal(0);
      expect(Array.from(bytesOf(kept.artifacts))).to.deep.equal(Array.from(bytesOf(source)));
      expect(kept.artifacts.weightSpecs!.map((s) => s.quantization?.dtype)).to.deep.equal(
        source.weightSpecs!.map((s) => s.quantization?.dtype),
      );
      // What stock tf.js loads from the kept files is exactly the model that was saved.
      const reloaded = await tf.loadLayersModel(tf.io.fromMemory(kept.artifacts));
      expect(weightValues(reloaded)).to.deep.equal(weightValues(loaded));
      reloaded.dispose();
      loaded.dispose();
    });
  }

  it('a weight whose values changed after loading (a careless fine-tune) is written at full width, never with the stale bytes', async () => {
    const source = quantized(float32, 'uint8');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(source));
    const target = loaded.weights.find((w) => w.shape.length === 4)!;
    tf.tidy(() => {
      target.write(target.read().add(1e-3));
    });
    const kept = keepSourceStorage(await savedArtifacts(loaded), source);
    expect(kept.changed).to.equal(1);
    const spec = kept.artifacts.weightSpecs!.find((s) => s.name === target.originalName)!;
    expect(spec.quantization, `${spec.name} must not keep uint8`).to.equal(undefined);
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(kept.artifacts));
    expect(weightValues(reloaded)).to.deep.equal(weightValues(loaded));
    reloaded.dispose();
    loaded.dispose();
  });

  it('loadLayersModelFromDisk, a backend copy and saveModelToDisk keep a uint8 file at its size; plain tf.loadLayersModel forgets it', async () => {
    const source = quantized(float32, 'uint8');
    await saveArtifactsToDisk(source, path.join(dir, 'src'));
    const shipped = await binBytes(path.join(dir, 'src'));
    expect(shipped).to.be.below(weightBytes(float32) / 3);

    const loaded = await loadLayersModelFromDisk(path.join(dir, 'src', 'model.json'));
    const copy = await cloneLayersModel(loaded, 'wasm');
    await saveModelToDisk(copy, path.join(dir, 'copy'));
    expect(await binBytes(path.join(dir, 'copy'))).to.equal(shipped);
    expect(weightBytes(await layersModelFormat.save(copy))).to.equal(shipped);

    const plain = await tf.loadLayersModel(tf.io.fromMemory(source));
    expect(sourceArtifactsOf(plain), 'a model tf.js loaded by itself carries no source files').to.equal(undefined);
    expect(weightBytes(await layersModelFormat.save(plain))).to.equal(weightBytes(float32));
    for (const m of [plain, copy, loaded]) m.dispose();
  });

  it('the files ride on the model object, not in a registry: not enumerable, not serialised, and only for quantised files', async () => {
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(float32));
    expect(sourceArtifactsOf(rememberSourceArtifacts(loaded, float32)), 'float32 files are not remembered').to.equal(undefined);
    const source = quantized(float32, 'float16');
    rememberSourceArtifacts(loaded, source);
    expect(sourceArtifactsOf(loaded)).to.equal(source);
    expect(Object.keys(loaded)).to.not.include('kiln.sourceFiles');
    expect(JSON.stringify(loaded.toJSON(null, false))).to.not.include('quantization');
    loaded.dispose();
  });

  it('optimize() with the default pipeline writes a uint8 model no larger than it came, and says why it did not fold BatchNorm', async function () {
    const source = quantized(float32, 'uint8');
    await saveArtifactsToDisk(source, path.join(dir, 'src'));
    const shipped = await binBytes(path.join(dir, 'src'));
    const loaded = await loadLayersModelFromDisk(path.join(dir, 'src', 'model.json'));
    const before = weightValues(loaded);
    const tensors = tf.memory().numTensors;
    const { model: optimized, report } = await optimize(loaded, { config: { backend: { preference: ['wasm'] } } });
    try {
      const stock = optimized.stock!;
      const files = optimized.artifacts ?? (await stock.format.save(stock.model));
      await saveArtifactsToDisk(files, path.join(dir, 'out'));
      expect(await binBytes(path.join(dir, 'out'))).to.be.at.most(shipped);
      const fusion = report.decisions.find((d) => d.plugin === 'op-fusion')!;
      expect(fusion.notes.join('\n')).to.match(/fold-batchnorm not applied to .*: the model's files store .* quantised/);
      // Stock tf.js loads what was written and computes what the optimised model does.
      const x = tf.randomUniform([2, ...(loaded.inputs[0]!.shape.slice(1) as number[])], 0, 1, 'float32', 3);
      const reloaded = await tf.loadLayersModel(tf.io.fromMemory(files));
      const [a, b] = [reloaded.predict(x) as tf.Tensor, optimized.predict(x) as tf.Tensor];
      expect(tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!)).to.be.below(1e-5);
      tf.dispose([a, b, x]);
      reloaded.dispose();
    } finally {
      optimized.dispose();
      await tf.setBackend('cpu');
    }
    expect(tf.memory().numTensors).to.equal(tensors);
    expect(weightValues(loaded)).to.deep.equal(before);
    loaded.dispose();
  });

  it('kiln optimize model.json --out: the uint8 model it came as, written no larger, loaded by stock tf.js', async () => {
    await saveArtifactsToDisk(quantized(float32, 'uint8'), path.join(dir, 'src'));
    const shipped = await binBytes(path.join(dir, 'src'));
    const result = await runKiln(['optimize', path.join(dir, 'src', 'model.json'), '--out', path.join(dir, 'out')]);
    expect(result.code, describeRun(result)).to.equal(0);
    expect(await binBytes(path.join(dir, 'out')), describeRun(result)).to.be.at.most(shipped);
    const written = await loadLayersModelFromDisk(path.join(dir, 'out', 'model.json'));
    expect(written.outputs[0]!.shape).to.deep.equal(model.outputs[0]!.shape);
    written.dispose();
  });
});
